"""python -m tests.support.cas_server PORT DATA_DIR USER:PASSWORD… — migrate a fresh
database, create the users, serve CAS at http://127.0.0.1:PORT/cas until killed."""
import os
import sys
from pathlib import Path


def main(port: str, data_dir: str, *users: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.support.cas_server.settings"
    os.environ["CAS_SERVER_DB"] = str(Path(data_dir) / "cas.sqlite3")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User

    for entry in users:
        username, _, password = entry.partition(":")
        User.objects.create_user(username=username, password=password)
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, skip_checks=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
