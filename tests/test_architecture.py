"""The layout's promises, checked on the source: only services write models, and the tenancy
app stands on its own. A change that breaks one fails here, naming the file and the line."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("chargers", "cpms", "billing")

# Calls that write whatever they are called on.
WRITES = {"save", "delete", "create", "bulk_create", "bulk_update", "get_or_create"}
WRITES |= {"update_or_create", "create_user", "create_superuser"}
# `update` writes when it is called on a queryset (not on a dict).
QUERYSET_METHODS = {"objects", "filter", "exclude", "all", "select_for_update", "only"}

# Doors that write through Django's own machinery, not ours.
WRITING_ALLOWED = {
    # The Django admin saves its forms itself; our admin classes configure it.
    "admin.py",
}
# Modules that may write although they are not named services, and why.
WRITING_MODULES = {
    "cpms/tenancy/scoping.py": "the tenant-owned base class's save() and bulk_create",
    "cpms/tenancy/rows.py": "the hot path's fixed INSERT statement, in the caller's scope",
}


def product_modules():
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or "/simulator/" in relative:
                continue
            yield relative, ast.parse(path.read_text(), filename=relative)


def is_service_module(relative: str) -> bool:
    return "/services/" in relative or relative.endswith("/services.py")


def receiver_chain(node: ast.AST) -> list[str]:
    """The names along `a.b().c.d` before the called method, innermost first."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names
        else:
            return names


def writes_in(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        chain = receiver_chain(node.func.value)
        if chain[:1] == ["super"]:
            continue  # a model's own save() calling its base class
        if method in WRITES or (method == "update" and QUERYSET_METHODS & set(chain)):
            found.append((node.lineno, f"{'.'.join(reversed(chain))}.{method}()"))
    return found


def test_only_services_write_models():
    offenders = []
    for relative, tree in product_modules():
        name = relative.rsplit("/", 1)[-1]
        if is_service_module(relative) or relative in WRITING_MODULES:
            continue
        if name in WRITING_ALLOWED or name == "models.py":
            continue
        offenders += [f"{relative}:{line}: {call}" for line, call in writes_in(tree)]

    assert offenders == [], "writes outside services:\n" + "\n".join(offenders)


def test_the_write_check_sees_the_writes_it_is_for():
    # Guards the check itself: were it blind, the test above would pass for nothing.
    tree = ast.parse(
        "form.save()\nCharger.objects.filter(pk=1).update(x=1)\nrow.delete()\n"
        "IdToken.objects.get_or_create(uid='A')\nvalues.update(a=1)\nsuper().save()\n"
    )

    assert [line for line, _ in writes_in(tree)] == [1, 2, 3, 4]


# The project's wiring composes the apps; the tenancy app itself knows none of them.
WIRING = {"settings.py", "urls.py", "routing.py", "api_urls.py", "asgi.py", "celery.py"}


def imported_packages(tree: ast.AST) -> set[str]:
    packages = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            packages.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            packages |= {alias.name.split(".")[0] for alias in node.names}
    return packages


@pytest.mark.parametrize("app", ["chargers", "billing"])
def test_the_tenancy_app_does_not_import_the_domains(app):
    offenders = [
        relative
        for relative, tree in product_modules()
        if relative.startswith("cpms/")
        and relative.removeprefix("cpms/") not in WIRING
        and "/management/" not in relative
        and app in imported_packages(tree)
    ]

    assert offenders == []


# The tests' own promise: a test module imports no other test module and no conftest. Fixtures
# two test modules share live in a conftest.py both see; other shared code (factories, clients,
# page tables) in a helper module named for what it holds. Importing a test module runs it
# twice under two names, and a test function imported is collected twice.
TESTS = ROOT / "tests"


def is_test_or_conftest(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def imported_test_modules(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """(line, module) of each import in `tree` of a test module or a conftest; `package` is
    the importing module's package, for relative imports."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(filter(None, [*parent, base]))
            # `from a import b` may import a module b as well as a name of module a.
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(node.lineno, name) for name in names if is_test_or_conftest(name)]
    return found


def test_no_test_module_imports_another_or_a_conftest():
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(ROOT)
        package = ".".join(relative.parent.parts)
        tree = ast.parse(path.read_text(), filename=str(relative))
        offenders += [
            f"{relative}:{line}: imports {module}"
            for line, module in imported_test_modules(tree, package)
        ]

    assert offenders == [], "move what is shared to a conftest or a helper:\n" + "\n".join(
        offenders
    )


def test_the_test_import_check_sees_the_imports_it_is_for():
    tree = ast.parse(
        "from tests.conftest import PASSWORD\nimport tests.api.test_keys\n"
        "from tests.api import test_keys, conftest\nfrom .test_v16 import now\n"
        "from . import conftest\nfrom tests.helpers import child_env\n"
        "from tests.chargers.ocpp.clients import connected\nimport pytest\n"
    )

    found = imported_test_modules(tree, "tests.chargers.ocpp")

    assert found == [
        (1, "tests.conftest"),
        (2, "tests.api.test_keys"),
        (3, "tests.api.test_keys"),
        (3, "tests.api.conftest"),
        (4, "tests.chargers.ocpp.test_v16"),
        (5, "tests.chargers.ocpp.conftest"),
    ]
