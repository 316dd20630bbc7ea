#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpms.settings")
    from django.core.management import execute_from_command_line

    from cpms.paths import make_var_dirs

    make_var_dirs()
    execute_from_command_line(sys.argv)
