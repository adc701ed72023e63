// fcnlab-train — trains an FCN on the SIIM-ACR PNG release or on generated phantoms;
// everything is in train/ (train_main: the command line; run_training: the loop).
#include "train/trainer.h"

int main(int argc, char** argv) { return fcnlab::train::train_main(argc, argv); }
