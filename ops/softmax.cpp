// softmax.cpp: not yet written
