"""The compiled part of HerdSec: the scanner's first stage (``herdsec.scan._prefilter``). Everything else is in
pyproject.toml. The extension is optional: where it cannot be built, the scanner runs its pure-Python first stage."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "herdsec.scan._prefilter",
            ["src/herdsec/scan/_prefilter.c"],
            optional=True,
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
        )
    ]
)
