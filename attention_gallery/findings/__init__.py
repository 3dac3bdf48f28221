"""What fine-tuning changed, measured over a whole labelled set (SST-2 dev): the
findings stage (:mod:`.stage`, run by the build), its measures on one sentence
(:mod:`.measures`) and the claim cards made from them (:mod:`.cards`), which the
build hands to the site in its manifest."""
