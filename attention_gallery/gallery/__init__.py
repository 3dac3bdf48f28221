"""The build side: from a sentence set to a published site.

What runs in the build process, never in a kernel: the sentence set, notebook
parameters, execution in warm kernels, the cache, where the build may write, and the
site (a MkDocs plugin that owns the gallery's pages, nav and offline post-processing).
It reads only the typed record each executed notebook carries.
"""
