"""The build: from a sentence set to executed notebooks and a published site.

What runs in the build process, never in a kernel: the sentence set, notebook
parameters, execution in warm kernels, the cache, the downloads and the live page's
graph (made here, before MkDocs runs: the site side imports no torch), where the
build may write, watch mode, and the call that runs MkDocs (whose plugin,
:mod:`attention_gallery.web`, publishes the records and the manifest).
"""
