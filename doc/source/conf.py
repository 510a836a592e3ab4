"""Sphinx configuration of the decision-engine documentation."""

import os
import sys

# NOTE: the configuration reference imports the option modules through the
# oslo.config.opts entry point; the source tree must be importable even
# when the package is not installed (a plain sphinx-build from a checkout).
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                '..', '..')))

project = 'decision-engine'
copyright = 'decision-engine developers'
author = 'decision-engine developers'

extensions = [
    'sphinx.ext.autodoc',
    'oslo_config.sphinxext',
]

source_suffix = {'.rst': 'restructuredtext'}
root_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'sphinx'

html_theme = 'alabaster'
html_theme_options = {
    'description': 'A live model of an OpenStack cloud, and audits on it',
    'fixed_sidebar': True,
}
html_title = 'decision-engine documentation'

# The option tables of oslo_config.sphinxext carry their own anchors.
nitpicky = False
