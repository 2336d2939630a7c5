"""Regenerate lms/data/common_passwords.txt (run by hand; the file is committed).

Source: the "passwords" frequency list shipped in the PyPI package zxcvbn (MIT licence; 30,000
passwords ranked by how often they appear in leaked password dumps), plus a short list of
Vietnamese habits that list misses ("matkhau" is "password" in Vietnamese). Entries are stored
lower-case, one a line, because the check compares without case.

    pip install --target /tmp/zx zxcvbn==4.5.0
    PYTHONPATH=/tmp/zx python bench/make_common_passwords.py
"""

from __future__ import annotations

from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-not-found]

VIETNAMESE = ["matkhau", "matkhau1", "matkhau12", "matkhau123", "matkhau1234", "matkhau12345", "matkhau@123",
              "matkhaumoi", "anhyeuem", "anhyeuem123", "emyeuanh", "emyeuanh123", "yeuem123", "vietnam",
              "vietnam123", "vietnam1", "hanoi123", "saigon123", "hochiminh", "abc12345", "zxcvbnm123",
              "123456aa", "123456a@", "a123456789", "binhdanhocvuso", "hocvuso123", "chuyendoiso"]

OUT = Path(__file__).resolve().parent.parent / "lms" / "data" / "common_passwords.txt"


def main() -> None:
    words = [w.lower() for w in FREQUENCY_LISTS["passwords"]] + VIETNAMESE
    seen: dict[str, None] = {}
    for word in words:
        if word and word not in seen:
            seen[word] = None
    header = ("# Common passwords, lower-case, one a line: zxcvbn 4.5.0's 'passwords' list (MIT) and\n"
              "# Vietnamese additions. Regenerate with bench/make_common_passwords.py.\n")
    OUT.write_text(header + "\n".join(seen) + "\n", encoding="utf-8")
    print(f"{len(seen)} passwords -> {OUT}")


if __name__ == "__main__":
    main()
