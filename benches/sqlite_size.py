#!/usr/bin/env python3
"""Loads the rows of a rolo database (from `rolo bench dump --out FILE`) into SQLite with the
same layout — one table per redb table, same keys, same encoded values, WITHOUT ROWID where the
key is composite — vacuums it, and prints both file sizes. Usage: sqlite_size.py DUMP REDB_FILE
"""
import os
import sqlite3
import sys
import tempfile

dump, redb_file = sys.argv[1], sys.argv[2]
path = os.path.join(tempfile.mkdtemp(), "same-data.sqlite")
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=OFF")
db.execute("PRAGMA synchronous=OFF")
tables = {}


def table_for(name, key_text, value_text):
    if name in tables:
        return tables[name]
    composite = key_text.startswith("(")
    key_cols = ["k%d" % i for i in range(key_text.count(",") + 1)] if composite else ["k"]
    cols = ", ".join(key_cols + ["v"])
    pk = ", ".join(key_cols)
    if name in ("by_email", "by_phone", "by_tag"):
        db.execute(f"CREATE TABLE {name} (k, v, PRIMARY KEY (k, v)) WITHOUT ROWID")
        key_cols = ["k"]
    elif not composite and key_text.lstrip("-").isdigit():
        db.execute(f"CREATE TABLE {name} (k INTEGER PRIMARY KEY, v)")
    else:
        db.execute(f"CREATE TABLE {name} ({cols}, PRIMARY KEY ({pk})) WITHOUT ROWID")
    tables[name] = (key_cols, composite)
    return tables[name]


def parse_key(text, composite):
    if composite:
        parts = [p.strip() for p in text.strip("()").split(",")]
        return [int(p) if p.lstrip("-").isdigit() else p.strip('"') for p in parts]
    return [int(text) if text.lstrip("-").isdigit() else text.strip('"')]


def parse_value(text):
    if text == "":
        return None
    if all(c in "0123456789abcdef" for c in text) and len(text) % 2 == 0 and not text.isdigit():
        return bytes.fromhex(text)
    return int(text) if text.lstrip("-").isdigit() else text


with open(dump, encoding="utf-8") as f:
    for line in f:
        name, key, value = line.rstrip("\n").split("\t")
        key_cols, composite = table_for(name, key, value)
        values = parse_key(key, composite) + [parse_value(value)]
        db.execute(f"INSERT INTO {name} VALUES ({', '.join('?' * len(values))})", values)
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
print(f"sqlite {sqlite_size / 1e6:8.1f} MB  (same rows, vacuumed)")
print(f"ratio  {redb_size / sqlite_size:.2f}x")
