"""Sphinx configuration of the decision-engine release notes (reno)."""

project = 'decision-engine release notes'
copyright = 'decision-engine developers'
author = 'decision-engine developers'

extensions = [
    'reno.sphinxext',
]

source_suffix = {'.rst': 'restructuredtext'}
root_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'sphinx'
html_theme = 'alabaster'
html_title = 'decision-engine release notes'
html_static_path = []
