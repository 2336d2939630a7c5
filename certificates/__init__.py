"""Certificate and report templates, shipped in the wheel as ``lms._certificate_templates``."""
