"""The library must stay usable without Prefect: `import thresher` (and every stage module)
must not import it. Checked in a fresh interpreter so other tests cannot mask an import."""

import subprocess
import sys


def test_library_does_not_import_prefect():
    code = (
        "import sys, thresher, thresher.rules, thresher.sources, thresher.extract, thresher.dedup, thresher.archive, "
        "thresher.clean, thresher.run, thresher.audit, thresher.report, thresher.export, thresher.cli; "
        "print('prefect' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
