"""User-facing text for the message keys services raise. Vietnamese first; English via Babel."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

__all__ = ["MESSAGES", "message"]

MESSAGES = {
    "full_name.required": _l("Vui lòng nhập họ và tên."),
    "full_name.too_long": _l("Họ và tên dài tối đa 200 ký tự."),
    "login.required": _l("Vui lòng nhập số điện thoại hoặc địa chỉ email."),
    "login.invalid": _l("Tên đăng nhập phải là số điện thoại di động (10 chữ số, bắt đầu bằng 0) "
                        "hoặc một địa chỉ email."),
    "login.taken": _l("Số điện thoại hoặc email này đã được đăng ký. Hãy đăng nhập."),
    "password.required": _l("Vui lòng nhập mật khẩu."),
    "password.too_short": _l("Mật khẩu cần ít nhất 8 ký tự."),
    "password.too_long": _l("Mật khẩu dài tối đa 128 ký tự."),
    "password.same_as_login": _l("Mật khẩu không được trùng với tên đăng nhập."),
    "birth_year.required": _l("Vui lòng nhập năm sinh gồm 4 chữ số, ví dụ 1965."),
    "birth_year.out_of_range": _l("Năm sinh không hợp lệ: hãy kiểm tra lại."),
    "unit_code.required": _l("Vui lòng chọn xã, phường nơi bạn sinh sống."),
    "unit_code.unknown": _l("Không tìm thấy xã, phường có mã này."),
    "role.unknown": _l("Vai trò không hợp lệ."),
    "consent.required": _l("Bạn cần đồng ý để hệ thống lưu thông tin học tập của bạn."),
    "registration.invalid": _l("Thông tin đăng ký chưa hợp lệ. Vui lòng sửa các ô được đánh dấu."),
    "user.invalid": _l("Thông tin tài khoản chưa hợp lệ."),
    "password.invalid": _l("Mật khẩu mới chưa hợp lệ."),
    "course.not_found": _l("Không tìm thấy khóa học."),
    "lesson.not_found": _l("Không tìm thấy bài học."),
    "lesson.locked": _l("Bài học này mở sau khi bạn hoàn thành các bài trước."),
    "auth.required": _l("Vui lòng đăng nhập."),
    "auth.invalid": _l("Sai tên đăng nhập hoặc mật khẩu."),
    "auth.forbidden": _l("Bạn không có quyền thực hiện việc này."),
    "throttled": _l("Bạn đã thử quá nhiều lần. Vui lòng đợi ít phút rồi thử lại."),
    "not_found": _l("Không tìm thấy trang hoặc dữ liệu bạn cần."),
    "method_not_allowed": _l("Phương thức không được hỗ trợ."),
    "bad_request": _l("Yêu cầu không hợp lệ."),
    "invalid_json": _l("Nội dung gửi lên phải là một đối tượng JSON."),
    "too_large": _l("Dữ liệu gửi lên quá lớn."),
    "server_error": _l("Hệ thống gặp sự cố. Vui lòng thử lại sau."),
}


def message(key: str) -> str:
    text = MESSAGES.get(key)
    return str(text) if text is not None else gettext("Yêu cầu không hợp lệ.")
