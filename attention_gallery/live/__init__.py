"""The live page: both models of a pair run in the reader's browser.

:mod:`.export` turns a pair whose trained model is a LoRA adapter of the untrained
one into one ONNX graph serving both models (at build time, cached); :mod:`.page`
writes the page and lists the files the site serves for it.
"""
