#!/usr/bin/env python3
"""Parses a vCard file written by rolo with Python's vobject and prints what it understood.

Usage: python3 tests/vobject_check.py FILE.vcf
Output: a JSON list, one object per card: {"fn", "given", "family", "emails", "phones",
"note"}. tests/interop.rs compares it with the contacts it exported; CI can run it alone to
check that a real third-party parser accepts rolo's vCards. Exits 2 when vobject is missing.
"""
import json
import sys

try:
    import vobject
except ImportError:
    print("vobject is not installed (pip install vobject)", file=sys.stderr)
    sys.exit(2)


def values(card, name):
    return [c.value for c in card.contents.get(name, [])]


def main(path):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    out = []
    for card in vobject.readComponents(text):
        n = card.contents.get("n", [None])[0]
        out.append(
            {
                "fn": card.fn.value if hasattr(card, "fn") else "",
                "given": n.value.given if n else "",
                "family": n.value.family if n else "",
                "emails": values(card, "email"),
                "phones": values(card, "tel"),
                "note": card.note.value if hasattr(card, "note") else "",
            }
        )
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
