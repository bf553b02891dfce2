"""The layer rule of DESIGN.md ("Architecture"), enforced by reading the source.

Every `.py` module of the six project packages (migrations excepted) is parsed with `ast` — nothing is
imported — and every import of a project package is collected: absolute and relative, at module level
and inside functions. The rules:

a. an app imports only from apps in lower layers (its own app is fine); the root url modules may import
   any app. Imports inside functions count like any other: a back-arrow hidden in a function is still a
   back-arrow. `AppConfig.ready()` gets no exception either: a higher app plugging into a lower app's
   registry imports downwards, which the rule already allows.
b. `kam` imports no app at module level (url modules excepted).
c. no app imports another app's pages or API internals (views, forms, `*_views`/`*_forms` modules, the
   `api` package); only the same app and url modules may. `kam` is exempt as a target: its API base and
   form helpers are the shared ground floor every app builds on.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS = {"kam": 0, "channels": 1, "customers": 2, "orders": 3, "opportunities": 4, "service": 5}

# The url modules that stitch every app together.
ROOT_URL_MODULES = {"kam.urls", "kam.api.urls"}


@dataclass(frozen=True)
class Import:
    path: str  # relative to the project root
    line: int
    importer: str  # dotted name of the importing module
    target: str  # dotted name of the imported module
    in_function: bool

    @property
    def importer_app(self) -> str:
        return self.importer.split(".")[0]

    @property
    def target_app(self) -> str:
        return self.target.split(".")[0]

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.target}"


def module_name(path: Path) -> tuple[str, bool]:
    """(dotted name, is it a package's __init__) of a file under ROOT."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def project_files() -> list[Path]:
    files = []
    for app in LAYERS:
        files += [p for p in sorted((ROOT / app).rglob("*.py")) if "migrations" not in p.relative_to(ROOT).parts]
    return files


def project_modules() -> set[str]:
    return {module_name(p)[0] for p in project_files()}


def collect_imports(source: str, *, path: str, module: str, is_package: bool, modules: set[str]) -> list[Import]:
    """Every import of a project package in `source`; `from a import b` names `a.b` when that is a module."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[Import] = []

    def add(node: ast.AST, target: str, in_function: bool) -> None:
        record = Import(path, node.lineno, module, target, in_function)
        if target.split(".")[0] in LAYERS and record not in found:  # `from a import b, c` is one import of a
            found.append(record)

    class Visitor(ast.NodeVisitor):
        depth = 0

        def visit_function(self, node: ast.AST) -> None:
            self.depth += 1
            self.generic_visit(node)
            self.depth -= 1

        visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_function

        def visit_Import(self, node: ast.Import) -> None:
            for alias in node.names:
                add(node, alias.name, self.depth > 0)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            for alias in node.names:
                submodule = f"{name}.{alias.name}"
                add(node, submodule if submodule in modules else name, self.depth > 0)

    Visitor().visit(ast.parse(source, filename=path))
    return found


def all_imports() -> list[Import]:
    modules = project_modules()
    found = []
    for file in project_files():
        module, is_package = module_name(file)
        found += collect_imports(
            file.read_text(encoding="utf-8"),
            path=str(file.relative_to(ROOT)),
            module=module,
            is_package=is_package,
            modules=modules,
        )
    return found


def is_url_module(module: str) -> bool:
    return module.split(".")[-1] == "urls"


def upward_imports(imports: list[Import]) -> list[Import]:
    """Rule a: imports of an app in the same or a higher layer (other than the importer's own app)."""
    return [
        i
        for i in imports
        if i.importer not in ROOT_URL_MODULES
        and i.target_app != i.importer_app
        and LAYERS[i.target_app] >= LAYERS[i.importer_app]
    ]


def kam_module_level_app_imports(imports: list[Import]) -> list[Import]:
    """Rule b: `kam` importing an app at module level, outside the url modules."""
    return [
        i
        for i in imports
        if i.importer_app == "kam"
        and i.target_app != "kam"
        and not i.in_function
        and i.importer not in ROOT_URL_MODULES
    ]


def is_page_or_api_internal(module: str) -> bool:
    parts = module.split(".")
    if parts[0] == "kam" or len(parts) < 2:
        return False
    last = parts[-1]
    return parts[1] in ("views", "forms", "api") or last.endswith(("_views", "_forms"))


def foreign_page_or_api_imports(imports: list[Import]) -> list[Import]:
    """Rule c: another app's views, forms or API modules, imported outside a url module."""
    return [
        i
        for i in imports
        if is_page_or_api_internal(i.target) and i.target_app != i.importer_app and not is_url_module(i.importer)
    ]


def check(title: str, violations: list[Import]) -> None:
    if violations:
        listing = "\n".join(f"  {v}" for v in sorted(violations, key=lambda v: (v.path, v.line, v.target)))
        pytest.fail(f"{title} — {len(violations)}:\n{listing}", pytrace=False)


# --- the rules on the real code --------------------------------------------------------------------


def test_apps_import_only_from_lower_layers():
    check(
        "imports of an app in the same or a higher layer (kam 0, channels 1, customers 2, orders 3, "
        "opportunities 4, service 5); a lower app reacts to a higher one through registries, signals or tasks",
        upward_imports(all_imports()),
    )


def test_kam_imports_no_app_at_module_level():
    check(
        "kam imports an app at module level outside kam/urls.py, kam/api/urls.py",
        kam_module_level_app_imports(all_imports()),
    )


def test_no_app_imports_another_apps_views_forms_or_api():
    check(
        "imports of another app's views, forms or API modules (share it from kam/ or a fields/policy module "
        "of the lower app)",
        foreign_page_or_api_imports(all_imports()),
    )


# --- the checker itself --------------------------------------------------------------------------


def synthetic(source: str, module: str, is_package: bool = False) -> list[Import]:
    path = module.replace(".", "/") + ("/__init__.py" if is_package else ".py")
    return collect_imports(source, path=path, module=module, is_package=is_package, modules=project_modules())


def test_checker_reports_a_back_arrow_at_module_level_and_inside_a_function():
    imports = synthetic(
        "from opportunities.models import Opportunity\nimport channels.models\ndef late():\n    import service.apps\n",
        "customers.synthetic",
    )
    assert [str(i) for i in upward_imports(imports)] == [
        "customers/synthetic.py:1 opportunities.models",
        "customers/synthetic.py:4 service.apps",
    ]
    assert [i.in_function for i in imports] == [False, False, True]


def test_checker_resolves_relative_imports_and_submodules():
    imports = synthetic(
        "from . import views\nfrom .. import forms\nfrom ..models import Customer\nfrom orders.api import filters\n",
        "customers.api",
        is_package=True,
    )
    assert [i.target for i in imports] == [
        "customers.api.views",
        "customers.forms",
        "customers.models",
        "orders.api.filters",
    ]
    assert [str(i) for i in foreign_page_or_api_imports(imports)] == ["customers/api/__init__.py:4 orders.api.filters"]


def test_checker_lets_url_modules_stitch_apps_and_kam_import_apps_late():
    root_urls = synthetic("from opportunities import views\n", "kam.urls")
    assert upward_imports(root_urls) == [] and foreign_page_or_api_imports(root_urls) == []
    late = synthetic("def f():\n    from customers import selectors\n", "kam.views")
    assert kam_module_level_app_imports(late) == [] and len(upward_imports(late)) == 1
