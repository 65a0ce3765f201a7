"""db/migrate.sh: migrations applied in order, once, recorded with their
checksum; an edited applied migration stops the run; the application user
has DML rights and no DDL."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = sorted((ROOT / "db" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql"))


def sql(stack, query, db=None, user="root", password=None):
    cmd = ["mariadb", "--no-defaults", f"--socket={stack['CHAT_DB_SOCKET']}", "-u", user,
           "--batch", "--skip-column-names", "-e", query]
    if db:
        cmd.append(db)
    env = dict(os.environ)
    if password:
        env["MYSQL_PWD"] = password
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=20)


def migrate(stack, tmp_path, **env):
    e = dict(os.environ, CHAT_DB_SOCKET=stack["CHAT_DB_SOCKET"],
             CHAT_DB_APP_PASSWORD_FILE=str(tmp_path / "pw"), **env)
    return subprocess.run([str(ROOT / "db" / "migrate.sh")], capture_output=True, text=True,
                          env=e, timeout=60)


@pytest.fixture
def scratch(stack, tmp_path):
    """A scratch database and user, dropped afterwards."""
    name = "chat_mtest"
    yield {"CHAT_DB_NAME": name, "CHAT_DB_APP_USER": "chat_mtest"}
    sql(stack, f"DROP DATABASE IF EXISTS {name}; DROP USER IF EXISTS 'chat_mtest'@'localhost'")


def test_every_migration_is_recorded_in_order(stack):
    r = sql(stack, "SELECT version, name, checksum FROM schema_migrations ORDER BY version", "chat")
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert [row[1] for row in rows] == [m.stem for m in MIGRATIONS]
    assert [int(row[0]) for row in rows] == [int(m.stem[:4]) for m in MIGRATIONS]
    for row, m in zip(rows, MIGRATIONS):
        digest = subprocess.run(["sha256sum", str(m)], capture_output=True, text=True).stdout.split()[0]
        assert row[2] == digest


def test_second_run_applies_nothing(stack, tmp_path, scratch):
    first = migrate(stack, tmp_path, **scratch)
    assert first.returncode == 0, first.stderr
    assert f"{len(MIGRATIONS)} applied" in first.stdout
    second = migrate(stack, tmp_path, **scratch)
    assert second.returncode == 0, second.stderr
    assert "0 applied" in second.stdout
    r = sql(stack, "SELECT COUNT(*) FROM schema_migrations", scratch["CHAT_DB_NAME"])
    assert r.stdout.strip() == str(len(MIGRATIONS))


def test_edited_applied_migration_stops_the_run(stack, tmp_path, scratch):
    mdir = tmp_path / "migrations"
    shutil.copytree(ROOT / "db" / "migrations", mdir)
    assert migrate(stack, tmp_path, CHAT_MIGRATIONS_DIR=str(mdir), **scratch).returncode == 0
    first = sorted(mdir.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    r = migrate(stack, tmp_path, CHAT_MIGRATIONS_DIR=str(mdir), **scratch)
    assert r.returncode == 1
    assert "add a new migration" in r.stderr


def test_new_migration_is_applied_after_the_others(stack, tmp_path, scratch):
    mdir = tmp_path / "migrations"
    shutil.copytree(ROOT / "db" / "migrations", mdir)
    (mdir / "9999_probe.sql").write_text("CREATE TABLE probe (id INT PRIMARY KEY);\n")
    r = migrate(stack, tmp_path, CHAT_MIGRATIONS_DIR=str(mdir), **scratch)
    assert r.returncode == 0, r.stderr
    assert r.stdout.index("9999_probe") > r.stdout.index(MIGRATIONS[-1].stem)
    assert sql(stack, "SELECT COUNT(*) FROM probe", scratch["CHAT_DB_NAME"]).stdout.strip() == "0"


def test_app_user_has_dml_but_no_ddl(stack):
    pw = (Path(stack["CHAT_STACK_DIR"]) / "secrets" / "db_app_password").read_text().strip()
    ok = sql(stack, "SELECT COUNT(*) FROM schema_migrations", "chat", "chat_app", pw)
    assert ok.returncode == 0, ok.stderr
    for ddl in ["CREATE TABLE evil (id INT)", "DROP TABLE schema_migrations",
                "ALTER TABLE schema_migrations ADD COLUMN x INT", "CREATE DATABASE evil",
                "GRANT ALL ON chat.* TO 'chat_app'@'localhost'", "SELECT * FROM mysql.user"]:
        r = sql(stack, ddl, "chat", "chat_app", pw)
        assert r.returncode != 0, ddl
        assert "denied" in r.stderr, (ddl, r.stderr)


def test_secrets_are_private(stack):
    secrets_dir = Path(stack["CHAT_STACK_DIR"]) / "secrets"
    assert secrets_dir.stat().st_mode & 0o077 == 0
    assert (secrets_dir / "db_app_password").stat().st_mode & 0o077 == 0
