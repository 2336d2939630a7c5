"""The OpenAPI 3.1 document of /api/v1. Every endpoint the API serves is described here; a
test compares this document with the app's URL map so neither drifts."""

from __future__ import annotations

from typing import Any

from lms.domain.questions import QuestionType

__all__ = ["openapi_document"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_STR = {"type": "string"}
_INT = {"type": "integer"}
_DT = {"type": "string", "format": "date-time"}
_AUTH: list[dict[str, list[str]]] = [{"bearer": []}]

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": _STR, "message": _STR,
                           "fields": {"type": "object", "additionalProperties": _STR}}}},
    },
    "TokenRequest": {"type": "object", "required": ["login", "password"],
                     "properties": {"login": _STR, "password": _STR}},
    "Token": {"type": "object", "required": ["token", "expires_at"], "properties": {"token": _STR, "expires_at": _DT}},
    "Registration": {
        "type": "object", "required": ["full_name", "login", "password", "birth_year", "unit_code"],
        "properties": {"full_name": {"type": "string", "minLength": 1, "maxLength": 200},
                       "login": {"type": "string", "description": "mobile number or e-mail"},
                       "password": {"type": "string", "minLength": 8},
                       "birth_year": _INT, "unit_code": {"type": "string", "description": "NSO commune code"}},
    },
    "Me": {"type": "object", "properties": {"id": _INT, "login": _STR, "full_name": _STR, "role": _STR,
                                            "unit_code": {"type": ["string", "null"]},
                                            "birth_year": {"type": ["integer", "null"]},
                                            "identities": {"type": "array", "items": {
                                                "type": "object", "required": ["issuer", "subject"],
                                                "properties": {"issuer": _STR, "subject": _STR}}}}},
    "CourseSummary": {
        "type": "object", "required": ["id", "title", "summary", "lesson_count", "competences"],
        "properties": {"id": _STR, "title": _STR, "title_en": _STR, "summary": _STR, "summary_en": _STR,
                       "lesson_count": _INT, "competences": {"type": "array", "items": _STR},
                       "audience": {"type": "array", "items": _STR}, "version": _STR, "minutes": _INT,
                       "mandated": {"type": "boolean"}},
    },
    "Course": {
        "type": "object", "required": ["id", "title", "lessons", "quizzes"],
        "properties": {"id": _STR, "title": _STR, "title_en": _STR, "summary": _STR, "version": _STR,
                       "competences": {"type": "array", "items": _STR}, "sequential": {"type": "boolean"},
                       "lessons": {"type": "array", "items": {"type": "object", "required": ["id", "title"],
                                                              "properties": {"id": _STR, "title": _STR,
                                                                             "minutes": _INT}}},
                       "quizzes": {"type": "array", "items": {"type": "object", "required": ["id", "title"],
                                                              "properties": {"id": _STR, "title": _STR,
                                                                             "kind": _STR}}}},
    },
    "Lesson": {
        "type": "object", "required": ["id", "course_id", "title", "html"],
        "properties": {"id": _STR, "course_id": _STR, "title": _STR, "title_en": _STR, "position": _INT,
                       "competences": {"type": "array", "items": _STR}, "minutes": _INT,
                       "html": {"type": "string", "description": "sanitised HTML"}},
    },
    "Progress": {"type": "object", "required": ["course_id", "completed_lessons", "lesson_count"],
                 "properties": {"course_id": _STR, "completed_lessons": _INT, "lesson_count": _INT}},
    "Quiz": {"type": "object", "required": ["id", "title", "course_id"],
             "properties": {"id": _STR, "course_id": _STR, "title": _STR, "kind": _STR,
                            "lesson_id": {"type": ["string", "null"]}, "pass_mark": {"type": "number"},
                            "time_limit_minutes": _INT, "max_attempts": _INT, "cooldown_minutes": _INT,
                            "question_count": _INT,
                            "attempt_policy": {
                                "type": "object", "description": "limits bind a course's final only",
                                "properties": {"limited": {"type": "boolean"}, "max_attempts": _INT,
                                               "attempt_window_hours": _INT, "cooldown_minutes": _INT}}}},
    "Item": {"type": "object", "required": ["id", "text_html"], "properties": {"id": _STR, "text_html": _STR}},
    "LearnerQuestion": {
        "type": "object", "required": ["id", "type", "text_html", "choices"],
        "properties": {"id": _STR, "type": {"enum": [t.value for t in QuestionType]},
                       "text_html": _STR, "points": {"type": "number"},
                       "choices": {"type": "array", "items": _ref("Item")},
                       "targets": {"type": "array", "items": _ref("Item")}},
    },
    "Result": {
        "type": "object", "required": ["score", "max_score", "passed", "questions"],
        "properties": {"attempt_id": _STR, "quiz_id": _STR, "score": {"type": "number"},
                       "max_score": {"type": "number"}, "percent": {"type": "number"}, "passed": {"type": "boolean"},
                       "pass_mark": {"type": "number"}, "finished_by": {"type": ["string", "null"]},
                       "submitted_at": {"type": ["string", "null"]},
                       "review": {"enum": ["withheld", "none", "score", "correctness", "feedback"],
                                  "description": "withheld: a final not yet passed, where correct is null and "
                                                 "feedback_html empty for every question"},
                       "questions": {"type": "array", "items": {
                           "type": "object", "required": ["id", "correct", "feedback_html"],
                           "properties": {"id": _STR, "correct": {"type": ["boolean", "null"]},
                                          "score": {"type": ["number", "null"]},
                                          "max_score": {"type": "number"}, "feedback_html": _STR}}}},
    },
    "Attempt": {
        "type": "object", "required": ["attempt_id", "deadline_at", "questions"],
        "properties": {"attempt_id": _STR, "quiz_id": _STR, "status": {"enum": ["in_progress", "submitted"]},
                       "number": _INT, "started_at": _DT, "deadline_at": {"type": ["string", "null"]},
                       "questions": {"type": "array", "items": _ref("LearnerQuestion")},
                       "saved": {"type": "object", "description": "question id -> the response saved"},
                       "result": _ref("Result")},
    },
    "AnswerRequest": {
        "type": "object", "required": ["response"],
        "properties": {"response": {"description": "a choice id, a list of ids, a boolean, a string, a number, "
                                                   "or an object of left id -> right id; null clears it",
                                    "type": ["string", "number", "boolean", "array", "object", "null"],
                                    "items": _STR, "additionalProperties": _STR}},
    },
    "Saved": {"type": "object", "required": ["question_id", "saved_at"],
              "properties": {"question_id": _STR, "saved_at": _DT}},
    "ItemStatistics": {"type": "object", "properties": {
        "question_id": _STR, "responses": _INT, "facility": {"type": ["number", "null"]},
        "discrimination": {"type": ["number", "null"]},
        "wrong_choices": {"type": "array", "items": {"type": "object"}}}},
    "Certificate": {"type": "object", "required": ["code", "course_id", "status", "issued_at", "expires_at", "pdf_url"],
                    "properties": {"code": _STR, "course_id": _STR, "course": _STR,
                                   "status": {"enum": ["valid", "expired", "revoked"]}, "issued_at": _DT,
                                   "expires_at": {"type": ["string", "null"]}, "pdf_status": _STR,
                                   "pdf_url": {"type": ["string", "null"]}}},
    "Verification": {"type": "object", "required": ["valid", "status", "holder", "course", "issued_at", "expires_at"],
                     "properties": {"valid": {"type": "boolean"}, "status": {"enum": ["valid", "expired", "revoked"]},
                                    "holder": _STR, "course": _STR, "course_id": _STR, "course_version": _STR,
                                    "issued_at": _DT, "expires_at": {"type": ["string", "null"]},
                                    "revoked_at": {"type": ["string", "null"]}}},
    "Health": {"type": "object", "required": ["status", "database"],
               "properties": {"status": _STR, "database": _STR}},
}

PATHS: dict[str, Any] = {
    "/healthz": {"get": {"summary": "Health of the service and its database", "operationId": "health",
                         "servers": [{"url": "/"}],
                         "responses": {"200": _json(_ref("Health")), "503": _json(_ref("Health"), "Degraded")}}},
    "/healthz/xapi": {"get": {"summary": "Learning records waiting for the LRS (pending, rejected, oldest, last error)",
                              "operationId": "health_xapi", "servers": [{"url": "/"}],
                              "responses": {"200": _json({"type": "object"})}}},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                     "responses": {"200": _json({"type": "object"})}}},
    "/api/v1/tokens": {"post": {
        "summary": "Exchange a login and password for a bearer token", "operationId": "createToken",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("TokenRequest")}}},
        "responses": {"201": _json(_ref("Token"), "Created"), "400": _error("Malformed"),
                      "401": _error("Wrong login or password"), "429": _error("Too many failures for this login")}}},
    "/api/v1/tokens/current": {"delete": {
        "summary": "Revoke the token used for this request", "operationId": "revokeToken", "security": _AUTH,
        "responses": {"204": {"description": "Revoked"}, "401": _error("Not authenticated")}}},
    "/api/v1/registrations": {"post": {
        "summary": "Register a citizen", "operationId": "register",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Registration")}}},
        "responses": {"201": _json({"type": "object", "required": ["user_id"], "properties": {"user_id": _INT}},
                                   "Created"),
                      "400": _error("Malformed"), "409": _error("Login taken"), "422": _error("Invalid fields")}}},
    "/api/v1/me": {"get": {"summary": "The authenticated account", "operationId": "me", "security": _AUTH,
                           "responses": {"200": _json(_ref("Me")), "401": _error("Not authenticated")}}},
    "/api/v1/me/password": {"post": {
        "summary": "Change one's password; every other token and session of the account ends",
        "operationId": "changePassword", "security": _AUTH,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["current_password", "new_password"],
            "properties": {"current_password": _STR, "new_password": {"type": "string", "minLength": 8,
                                                                      "maxLength": 128}}}}}},
        "responses": {"204": {"description": "Changed"}, "400": _error("Malformed"),
                      "401": _error("Not authenticated, or a wrong current password"),
                      "422": _error("A weak new password: too short or long, common, or containing the login"),
                      "429": _error("Too many wrong passwords for this login")}}},
    "/api/v1/courses": {"get": {"summary": "Published courses", "operationId": "listCourses",
                                "responses": {"200": _json({"type": "array", "items": _ref("CourseSummary")})}}},
    "/api/v1/courses/{course_id}": {"get": {
        "summary": "A course with its lessons and quizzes", "operationId": "getCourse",
        "parameters": [{"name": "course_id", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": _json(_ref("Course")), "404": _error("Unknown course")}}},
    "/api/v1/lessons/{lesson_id}": {"get": {
        "summary": "A lesson's sanitised HTML", "operationId": "getLesson",
        "parameters": [{"name": "lesson_id", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": _json(_ref("Lesson")), "404": _error("Unknown lesson")}}},
    "/api/v1/lessons/{lesson_id}/completion": {"post": {
        "summary": "Mark a lesson done", "operationId": "completeLesson", "security": _AUTH,
        "parameters": [{"name": "lesson_id", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": _json(_ref("Progress")), "401": _error("Not authenticated"),
                      "403": _error("Locked until earlier lessons are done"), "404": _error("Unknown lesson")}}},
    "/api/v1/quizzes/{quiz_id}": {"get": {
        "summary": "A quiz's settings", "operationId": "getQuiz",
        "parameters": [{"name": "quiz_id", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": _json(_ref("Quiz")), "404": _error("Unknown quiz")}}},
    "/api/v1/quizzes/{quiz_id}/attempts": {"post": {
        "summary": "Start an attempt (or resume the one in progress)", "operationId": "startAttempt",
        "security": _AUTH,
        "parameters": [{"name": "quiz_id", "in": "path", "required": True, "schema": _STR}],
        "responses": {"201": _json(_ref("Attempt"), "Started or resumed"), "401": _error("Not authenticated"),
                      "403": _error("No attempts left"), "404": _error("Unknown quiz"),
                      "429": _error("A final's attempts are used for now: Retry-After, and "
                                    "error.next_attempt_at says when the next one opens")}}},
    "/api/v1/attempts/{attempt_id}": {"get": {
        "summary": "An attempt of the learner's own", "operationId": "getAttempt", "security": _AUTH,
        "parameters": [{"name": "attempt_id", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": _json(_ref("Attempt")), "401": _error("Not authenticated"),
                      "404": _error("Unknown, or someone else's")}}},
    "/api/v1/attempts/{attempt_id}/answers/{question_id}": {"put": {
        "summary": "Save an answer at once (autosave)", "operationId": "saveAnswer", "security": _AUTH,
        "parameters": [{"name": "attempt_id", "in": "path", "required": True, "schema": _STR},
                       {"name": "question_id", "in": "path", "required": True, "schema": _STR}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("AnswerRequest")}}},
        "responses": {"200": _json(_ref("Saved")), "400": _error("Malformed"), "401": _error("Not authenticated"),
                      "404": _error("Unknown, or someone else's"), "409": _error("Submitted or time is up"),
                      "422": _error("Not an answer of this question's type")}}},
    "/api/v1/attempts/{attempt_id}/submission": {"post": {
        "summary": "Submit and grade; idempotent: sent again, it returns the same result",
        "operationId": "submitAttempt", "security": _AUTH,
        "parameters": [{"name": "attempt_id", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": _json(_ref("Result")), "401": _error("Not authenticated"),
                      "404": _error("Unknown, or someone else's")}}},
    "/api/v1/quizzes/{quiz_id}/statistics": {"get": {
        "summary": "Item analysis per question (trainers)", "operationId": "quizStatistics", "security": _AUTH,
        "parameters": [{"name": "quiz_id", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": _json({"type": "array", "items": _ref("ItemStatistics")}),
                      "401": _error("Not authenticated"), "403": _error("Trainers only"),
                      "404": _error("Unknown quiz")}}},
    "/api/v1/me/certificates": {"get": {
        "summary": "The learner's certificates", "operationId": "myCertificates", "security": _AUTH,
        "responses": {"200": _json({"type": "array", "items": _ref("Certificate")}),
                      "401": _error("Not authenticated")}}},
    "/api/v1/certificates/{code}.pdf": {"get": {
        "summary": "The signed PDF of one's own certificate", "operationId": "certificatePdf", "security": _AUTH,
        "parameters": [{"name": "code", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": {"description": "PDF", "content": {"application/pdf": {}}},
                      "401": _error("Not authenticated"), "404": _error("Unknown, or someone else's"),
                      "409": _error("Still being prepared")}}},
    "/api/v1/certificates/{code}/credential.json": {"get": {
        "summary": "One's own certificate as an Open Badges 3.0 OpenBadgeCredential", "operationId": "credential",
        "security": _AUTH, "parameters": [{"name": "code", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": {"description": "OpenBadgeCredential", "content": {"application/ld+json": {}}},
                      "401": _error("Not authenticated"), "404": _error("Unknown, or someone else's")}}},
    "/api/v1/certificates/{code}/credential.jwt": {"get": {
        "summary": "The certificate as an Open Badges 3.0 VC-JWT (section 8.2): the credential is the payload "
                   "with iss, nbf, jti and sub; the header has the issuer's public key (jwk) and certificate "
                   "(x5c); credentialStatus is a BitstringStatusListEntry", "operationId": "credentialJwt",
        "parameters": [{"name": "code", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": {"description": "compact JWS", "content": {"application/vc+jwt": {}}},
                      "404": _error("Unknown code")}}},
    "/api/v1/credentials/status/{number}": {"get": {
        "summary": "A W3C Bitstring Status List credential (revocation) as a VC-JWT; a certificate's bit is 1 "
                   "once revoked", "operationId": "statusList",
        "parameters": [{"name": "number", "in": "path", "required": True, "schema": _INT}],
        "responses": {"200": {"description": "compact JWS", "content": {"application/vc+jwt": {}}},
                      "404": _error("No such list")}}},
    "/api/v1/me/export": {"get": {
        "summary": "Everything the system holds about the learner, as JSON", "operationId": "exportMyData",
        "security": _AUTH, "responses": {"200": _json({"type": "object"}), "401": _error("Not authenticated")}}},
    "/api/v1/me/closure": {"post": {
        "summary": "Close the account: personal data deleted, certificates kept for verification",
        "operationId": "closeMyAccount", "security": _AUTH,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["confirm"], "properties": {"confirm": {"const": True}}}}}},
        "responses": {"204": {"description": "Closed"}, "400": _error("Not confirmed"),
                      "401": _error("Not authenticated")}}},
    "/api/v1/me/mandates": {"get": {
        "summary": "Courses the official must complete this training year, earliest deadline first",
        "operationId": "myMandates", "security": _AUTH,
        "responses": {"200": _json({"type": "array", "items": {"type": "object", "properties": {
            "course_id": _STR, "course": _STR, "due": {"type": "string", "format": "date"},
            "done": {"type": "boolean"}, "overdue": {"type": "boolean"}}}}), "401": _error("Not authenticated")}}},
    "/api/v1/reports/targets": {"get": {
        "summary": "A unit's indicators against the targets of the plan in force (its managers, admins)",
        "operationId": "targetReport", "security": _AUTH,
        "parameters": [{"name": "unit", "in": "query", "required": True, "schema": _STR},
                       {"name": "year", "in": "query", "required": True, "schema": _INT}],
        "responses": {"200": _json({"type": "object", "required": ["unit", "year", "indicators"], "properties": {
            "unit": _STR, "year": _INT,
            "figures": {"type": "object", "description": "classes held, participant-times, unique learners, "
                                                         "teams and members, certificates by course, unit, month "
                                                         "and learner group",
                        "properties": {"classes_held": _INT, "participant_times": _INT, "unique_learners": _INT,
                                       "teams": _INT, "team_members": _INT,
                                       **{f"certificates_by_{k}": {"type": "object", "additionalProperties": _INT}
                                          for k in ("course", "unit", "month", "group")}}},
            "trend": {"type": "array", "description": "per month: certificates of the officials' mandated "
                                                      "course and of the citizens' online services course",
                      "items": {"type": "object", "properties": {
                          k: _INT for k in ("month", "officials", "citizens", "officials_total", "citizens_total")}}},
            "plan": {"type": "object", "properties": {
                "slug": _STR, "title": _STR, "issuing_body": _STR, "decision_number": _STR, "working_age_min": _INT,
                "working_age_max": {"type": ["integer", "null"]}, "team_min_certified": _INT}},
            "indicators": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "label", "numerator", "denominator", "percent", "target_percent", "met"],
                "properties": {"id": _STR, "label": _STR, "numerator": _INT, "denominator": _INT,
                               "percent": {"type": ["number", "null"]}, "target_percent": {"type": "number"},
                               "met": {"type": "boolean"},
                               "denominator_source": {"enum": ["records", "population", "registered"]}}}}}}),
            "400": _error("Missing unit or year"), "401": _error("Not authenticated"),
            "403": _error("Outside the manager's units"), "404": _error("Unknown unit")}}},
    "/api/v1/verify/{code}": {"get": {
        "summary": "Verify a certificate code (anyone; rate-limited)", "operationId": "verify",
        "parameters": [{"name": "code", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": _json(_ref("Verification")), "404": _error("Unknown code"),
                      "429": _error("Too many requests")}}},
}


def openapi_document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Bình dân học vụ số LMS API", "version": "1.0.0",
                 "description": "Courses, quizzes, certificates and reports of the digital literacy LMS. "
                                "Errors have the shape {\"error\": {\"code\", \"message\"}}."},
        "servers": [{"url": server_url or "/"}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
