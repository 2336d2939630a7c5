"""The OpenAPI 3.1 document of /api/v1. Every endpoint the API serves is described here; a
test compares this document with the app's URL map so neither drifts."""

from __future__ import annotations

from typing import Any

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
                                            "birth_year": {"type": ["integer", "null"]}}},
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
    "Health": {"type": "object", "required": ["status", "database"],
               "properties": {"status": _STR, "database": _STR}},
}

PATHS: dict[str, Any] = {
    "/healthz": {"get": {"summary": "Health of the service and its database", "operationId": "health",
                         "servers": [{"url": "/"}],
                         "responses": {"200": _json(_ref("Health")), "503": _json(_ref("Health"), "Degraded")}}},
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
