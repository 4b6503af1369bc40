// cross_entropy.cpp: not yet written
