"""`manage.py simulate`: simulated OCPP chargers against any CSMS URL.

It imports only the simulator package, never a model, so it works against any CSMS; the same
command line runs without Django as `python -m chargers.simulator`.
"""

from django.core.management.base import BaseCommand, CommandError

from chargers.simulator import cli


class Command(BaseCommand):
    help = (
        "Run simulated OCPP 1.6 / 2.0.1 chargers against a CSMS, e.g. "
        "simulate --url ws://127.0.0.1:8000/ocpp/demo/ --count 10 --password PW"
    )
    # The simulator needs neither the database nor the project's system checks.
    requires_system_checks = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version picks the OCPP version; it replaces Django's --version flag.
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, **options):
        options = _Options(options)
        status = cli.run(options, self.stdout)
        if status == 2:
            raise CommandError("invalid options (see above)")
        if status:
            raise SystemExit(status)


class _Options(dict):
    """Django hands options as a dict; the simulator reads attributes."""

    __getattr__ = dict.__getitem__
