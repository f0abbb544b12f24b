"""The library must stay usable without Prefect: `import thresher` (and every stage module)
must not import it. Checked in a fresh interpreter so other tests cannot mask an import."""

import subprocess
import sys


def test_library_does_not_import_prefect():
    code = (
        "import sys, thresher, thresher.boilerplate, thresher.pipeline, thresher.archive, thresher.sources, "
        "thresher.textdump, thresher.cli; print('prefect' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
