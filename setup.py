"""Build hook: keep the reference solutions out of the wheel (metadata lives in pyproject.toml).

setuptools has no setting to leave one module of a package out of a wheel, so `build_py` drops
the files listed in INSTRUCTOR_ONLY. An editable install (`pip install -e .`) maps the source
folders and so still sees them: that is how instructors grade.
"""

from setuptools import setup
from setuptools.command.build_py import build_py

#: (package, module) pairs that must never reach what students install
INSTRUCTOR_ONLY = {("reference", "models")}


class BuildPyWithoutSolutions(build_py):
    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if (m[0], m[1]) not in INSTRUCTOR_ONLY]


setup(cmdclass={"build_py": BuildPyWithoutSolutions})
