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
    "population.year": _l("Năm phải từ 2000 đến 2100."),
    "population.value": _l("Số người phải là một số nguyên không âm."),
    "population.invalid": _l("Số liệu dân số chưa hợp lệ."),
    "plan.invalid": _l("Kế hoạch chưa hợp lệ."),
    "lesson.not_found": _l("Không tìm thấy bài học."),
    "lesson.locked": _l("Bài học này mở sau khi bạn hoàn thành các bài trước."),
    "quiz.not_found": _l("Không tìm thấy bài kiểm tra."),
    "quiz.empty": _l("Bài kiểm tra này chưa có câu hỏi."),
    "attempt.not_found": _l("Không tìm thấy lượt làm bài."),
    "attempt.closed": _l("Lượt làm bài này đã nộp, không thể sửa câu trả lời."),
    "attempt.time_up": _l("Đã hết giờ làm bài. Bài đã được chấm với các câu trả lời đã lưu."),
    "attempt.limit": _l("Bạn đã dùng hết số lần làm bài cho phép."),
    "attempt.cooldown": _l("Bạn cần chờ thêm một thời gian trước khi làm lại bài này."),
    "question.not_in_attempt": _l("Câu hỏi này không thuộc lượt làm bài."),
    "response.invalid": _l("Câu trả lời không đúng dạng của câu hỏi."),
    "response.missing": _l("Thiếu câu trả lời (trường \"response\")."),
    "response.unknown_choice": _l("Hãy chọn trong các phương án của câu hỏi."),
    "response.boolean": _l("Hãy chọn Đúng hoặc Sai."),
    "response.text": _l("Câu trả lời dài tối đa 1000 ký tự."),
    "response.number": _l("Hãy nhập một con số."),
    "response.matching": _l("Hãy ghép mỗi mục với một phương án trong danh sách."),
    "response.ordering": _l("Hãy sắp xếp đủ tất cả các mục."),
    "response.unsupported": _l("Loại câu hỏi này chưa được hỗ trợ."),
    "certificate.not_found": _l("Không tìm thấy chứng nhận với mã này."),
    "certificate.pending": _l("Chứng nhận đang được chuẩn bị. Vui lòng thử lại sau ít phút."),
    "certificate.invalid": _l("Thông tin thu hồi chưa hợp lệ."),
    "reason.required": _l("Vui lòng nhập lý do."),
    "user.not_found": _l("Không tìm thấy tài khoản."),
    "report.parameters": _l("Cần có đơn vị (unit) và năm (year) hợp lệ."),
    "unit.not_found": _l("Không tìm thấy đơn vị hành chính."),
    "mandate.invalid": _l("Thông tin giao khóa học chưa hợp lệ."),
    "mandate.not_found": _l("Không tìm thấy việc giao khóa học này."),
    "agency.outside_unit": _l("Cơ quan này không thuộc đơn vị đã chọn."),
    "class.invalid": _l("Thông tin lớp tập huấn chưa hợp lệ."),
    "class.title": _l("Vui lòng nhập tên lớp (tối đa 300 ký tự)."),
    "class.place": _l("Vui lòng nhập địa điểm (tối đa 300 ký tự)."),
    "class.not_found": _l("Không tìm thấy lớp tập huấn."),
    "team.invalid": _l("Hãy chọn một xã, phường."),
    "closure.confirm": _l("Hãy xác nhận đóng tài khoản bằng {\"confirm\": true}."),
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
