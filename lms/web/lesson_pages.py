"""The lesson editor: trainers and admins edit a lesson's Markdown, preview it and publish it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from lms.content.courses import BodyProblem
from lms.services import lessons
from lms.services.errors import Conflict, ServiceError
from lms.services.records import Lesson
from lms.web.auth import current_account
from lms.web.db import db, now, state, transaction
from lms.web.forms import LessonForm
from lms.web.page_blueprint import PageBlueprint
from lms.web.pages import local_date

__all__ = ["bp"]

bp = PageBlueprint("lms_lesson_editor", __name__)

_PROBLEMS = {
    "body.empty": _l("Bài học chưa có nội dung."),
    "body.too_long": _l("Nội dung quá dài: tối đa 200.000 ký tự."),
    "image.no_alt": _l("Ảnh %(src)s chưa có mô tả: hãy viết mô tả ảnh trong dấu ngoặc vuông, "
                       "ví dụ ![Mô tả ảnh](%(src)s)."),
    "image.remote": _l("Ảnh %(src)s phải là tệp trong thư mục assets/ của khóa học, không lấy từ trang khác."),
    "image.outside_assets": _l("Ảnh %(src)s phải nằm trong thư mục assets/ của khóa học."),
    "image.missing": _l("Không tìm thấy ảnh %(src)s trong thư mục assets/ của khóa học."),
    "image.type": _l("Ảnh %(src)s phải là tệp SVG, PNG, JPEG hoặc WebP."),
    "image.too_large": _l("Ảnh %(src)s quá lớn: tối đa 100 KB để người dùng mạng chậm vẫn xem được."),
}


def _problem_text(problem: BodyProblem) -> str:
    template = _PROBLEMS.get(problem.key)
    text = str(template) % {"src": problem.subject} if template is not None else problem.message
    return str(_("Dòng %(n)s: %(m)s", n=problem.line, m=text))


def _asset_base(course_id: str) -> str:
    # The preview is shown under /trainer/..., so the stored relative image paths would not resolve.
    return url_for("lms_courses.course_asset", course_id=course_id, filename="x")[:-1]


def _base_version(raw: str | None) -> int | None:
    try:
        return int(raw or "")
    except ValueError:
        return None


def _history(lesson_id: str) -> list[dict[str, object]]:
    return [{"version": v.version, "date": local_date(v.created_at), "title": v.title,
             "origin": v.origin, "author": v.author_label}
            for v in lessons.history(db(), lesson_id)[:10]]


@bp.route("/trainer/lessons/<lesson_id>/edit", methods=["GET", "POST"])
@login_required
def lesson_edit(lesson_id: str) -> ResponseReturnValue:
    user = current_account()
    session = db()
    try:
        lesson: Lesson = lessons.editable_lesson(session, user, lesson_id)
    except ServiceError as exc:
        abort(exc.status)
    course_id = lesson.course_id
    course_folder = state().settings.content_path / course_id
    form = LessonForm()
    if request.method == "GET":
        form.title.data, form.body.data = lesson.title, lesson.markdown
        form.base_version.data = str(lesson.version)
    preview_html: str | None = None
    notice: str | None = None
    status = 200
    if form.validate_on_submit():
        title, body = form.title.data or "", form.body.data or ""
        if form.publish.data:
            try:
                with transaction() as tx:
                    result = lessons.publish(tx, user, lesson_id, title=title, markdown=body,
                                             base_version=_base_version(form.base_version.data),
                                             course_folder=course_folder, now=now())
            except lessons.DraftInvalid as exc:
                form.body.errors = [_problem_text(p) for p in exc.problems]
                if "title" in exc.fields:
                    form.title.errors = [_("Vui lòng nhập tiêu đề bài học (tối đa 200 ký tự).")]
                status = 422
            except Conflict as exc:
                notice = _("Trong lúc bạn sửa, bài học đã được xuất bản thành phiên bản %(v)s. Hãy mở bài học "
                           "ở thẻ khác để so sánh; bấm \"Xuất bản\" lần nữa nếu vẫn muốn thay bằng nội dung dưới đây.",
                           v=exc.params.get("version"))
                form.base_version.data = str(exc.params.get("version"))
                status = 409
            else:
                if result.changed:
                    flash(_("Đã xuất bản phiên bản %(v)s. Học viên thấy nội dung mới ngay.", v=result.version),
                          "success")
                else:
                    flash(_("Nội dung giống phiên bản đang dùng nên không có phiên bản mới."), "info")
                return redirect(url_for("lms_courses.lesson", lesson_id=lesson_id))
            lesson = lessons.editable_lesson(db(), user, lesson_id)  # reloaded after the rollback
        draft = lessons.preview(lesson, title, body, course_folder=course_folder, asset_base=_asset_base(course_id))
        preview_html = draft.html
        if not form.body.errors:
            form.body.errors = [_problem_text(p) for p in draft.problems]
    elif request.method == "POST":
        status = 422
    return render_template(
        "lms/lesson_edit.html", form=form, preview_html=preview_html, notice=notice,
        lesson={"id": lesson.id, "title": lesson.title, "version": lesson.version,
                "updated": local_date(lesson.updated_at), "source": lesson.source,
                "edited": lesson.edited_at is not None,
                "url": url_for("lms_courses.lesson", lesson_id=lesson.id)},
        course={"title": lesson.course.title, "url": url_for("lms_courses.course", course_id=course_id)},
        history=_history(lesson_id)), status
