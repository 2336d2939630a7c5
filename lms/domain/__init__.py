"""Pure rules: standard library only. Functions take ``now`` as an argument."""
