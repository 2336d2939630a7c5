"""WTForms forms: CSRF-protected, validated, with Vietnamese messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

__all__ = ["LessonForm", "LoginForm", "RegistrationForm"]


class LoginForm(FlaskForm):  # type: ignore[misc]
    login = StringField(_l("Số điện thoại hoặc email"),
                        validators=[DataRequired(message=_l("Vui lòng nhập số điện thoại hoặc địa chỉ email."))])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(message=_l("Vui lòng nhập mật khẩu."))])


class RegistrationForm(FlaskForm):  # type: ignore[misc]
    full_name = StringField(_l("Họ và tên"), validators=[
        DataRequired(message=_l("Vui lòng nhập họ và tên.")),
        Length(max=200, message=_l("Họ và tên dài tối đa 200 ký tự."))])
    login = StringField(_l("Số điện thoại hoặc email (dùng để đăng nhập)"), validators=[
        DataRequired(message=_l("Vui lòng nhập số điện thoại hoặc địa chỉ email."))])
    password = PasswordField(_l("Mật khẩu (ít nhất 8 ký tự)"), validators=[
        DataRequired(message=_l("Vui lòng nhập mật khẩu.")),
        Length(min=8, max=128, message=_l("Mật khẩu cần từ 8 đến 128 ký tự."))])
    birth_year = IntegerField(_l("Năm sinh"), validators=[
        InputRequired(message=_l("Vui lòng nhập năm sinh gồm 4 chữ số, ví dụ 1965.")),
        NumberRange(min=1900, max=2100, message=_l("Năm sinh không hợp lệ: hãy kiểm tra lại."))])
    unit_code = SelectField(_l("Xã, phường nơi bạn sinh sống"), validate_choice=False, validators=[
        DataRequired(message=_l("Vui lòng chọn xã, phường nơi bạn sinh sống."))])
    consent = BooleanField(
        _l("Tôi đồng ý để hệ thống lưu họ tên, năm sinh, xã phường và kết quả học tập của tôi nhằm cấp "
           "chứng nhận và thống kê phong trào Bình dân học vụ số."),
        validators=[DataRequired(message=_l("Bạn cần đồng ý để hệ thống lưu thông tin học tập của bạn."))])


class LessonForm(FlaskForm):  # type: ignore[misc]
    """The lesson editor: "Xem trước" re-renders with a preview, "Xuất bản" publishes."""

    title = StringField(_l("Tiêu đề bài học"), validators=[
        DataRequired(message=_l("Vui lòng nhập tiêu đề bài học.")),
        Length(max=200, message=_l("Tiêu đề dài tối đa 200 ký tự."))])
    body = TextAreaField(_l("Nội dung bài học (Markdown)"), validators=[
        DataRequired(message=_l("Vui lòng nhập nội dung bài học."))])
    base_version = HiddenField()
    preview = SubmitField(_l("Xem trước"))
    publish = SubmitField(_l("Xuất bản"))
