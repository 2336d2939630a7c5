"""Certificate templates to PDF (WeasyPrint, sandboxed fetcher), QR codes and signing."""
