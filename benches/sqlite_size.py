#!/usr/bin/env python3
"""Loads the rows of a rolo database (from `rolo bench dump --out FILE`) into SQLite and prints
both file sizes, with SQLite's per table.

What each side stores: exactly the same rows. One SQLite table per redb table, with the same
key (a composite key as that many columns, integers as INTEGER, strings as TEXT) and the same
value bytes (the postcard-encoded records as BLOB, small integer values as INTEGER). Composite
keys use WITHOUT ROWID tables with the key as PRIMARY KEY; single integer keys are the rowid.
Tables whose value is empty (redb `()`: the name order, the email/phone pairs, deals by
contact) have no value column. The tag multimap (tag → contacts) becomes a (tag, contact)
pair table. SQLite is vacuumed before it is measured, as rolo compacts after bulk loads.

Usage: sqlite_size.py DUMP REDB_FILE [SQLITE_OUT]
"""
import os
import re
import sqlite3
import sys
import tempfile

dump, redb_file = sys.argv[1], sys.argv[2]
path = sys.argv[3] if len(sys.argv) > 3 else os.path.join(tempfile.mkdtemp(), "same-data.sqlite")
if os.path.exists(path):
    os.remove(path)
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=OFF")
db.execute("PRAGMA synchronous=OFF")
tables = {}

# One element of a key as Rust's Debug prints it: a quoted string or an integer.
ELEMENT = re.compile(r'"((?:[^"\\]|\\.)*)"|(-?\d+)')
ESCAPE = re.compile(r"\\(u\{[0-9a-f]+\}|.)")


def unescape(text):
    def one(m):
        e = m.group(1)
        if e.startswith("u{"):
            return chr(int(e[2:-1], 16))
        return {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(e, e)

    return ESCAPE.sub(one, text)


def parse_key(text):
    return [unescape(s) if s or not n else int(n) for s, n in ELEMENT.findall(text)]


def parse_value(text):
    if text == "":
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    if text.startswith("("):
        return text
    return bytes.fromhex(text)


def table_for(name, key, value):
    if name in tables:
        return tables[name]
    if name == "by_tag":
        db.execute(f"CREATE TABLE {name} (k, v, PRIMARY KEY (k, v)) WITHOUT ROWID")
        tables[name] = True
        return True
    key_cols = ["k%d" % i for i in range(len(key))] if len(key) > 1 else ["k"]
    with_value = value is not None
    cols = ", ".join(key_cols + (["v"] if with_value else []))
    if len(key) == 1 and isinstance(key[0], int):
        db.execute(f"CREATE TABLE {name} (k INTEGER PRIMARY KEY{', v' if with_value else ''})")
    else:
        db.execute(f"CREATE TABLE {name} ({cols}, PRIMARY KEY ({', '.join(key_cols)})) WITHOUT ROWID")
    tables[name] = with_value
    return with_value


with open(dump, encoding="utf-8") as f:
    for line in f:
        name, key_text, value_text = line.rstrip("\n").split("\t")
        key, value = parse_key(key_text), parse_value(value_text)
        with_value = table_for(name, key, value)
        row = key + ([value] if with_value else [])
        db.execute(f"INSERT INTO {name} VALUES ({', '.join('?' * len(row))})", row)
db.commit()
db.execute("VACUUM")
per_table = db.execute(
    "SELECT name, SUM(pgsize), SUM(payload) FROM dbstat GROUP BY name ORDER BY 2 DESC"
).fetchall()
db.close()
for name, pages, payload in per_table:
    print(f"  {name:<40} {pages / 1e6:8.1f} MB pages  {payload / 1e6:8.1f} MB payload")
redb_size = os.path.getsize(redb_file)
sqlite_size = os.path.getsize(path)
print(f"redb   {redb_size / 1e6:8.1f} MB  {redb_file}")
print(f"sqlite {sqlite_size / 1e6:8.1f} MB  (same rows, vacuumed)  {path}")
print(f"ratio  {redb_size / sqlite_size:.2f}x")
