"""gensim interop for rnn-lab's word2vec files.

    python w2v_gensim.py generate       # rewrite w2v_gensim.{txt,bin,json} beside this script
    python w2v_gensim.py check FILE...  # load rnn-lab-written vectors with gensim, compare formats

`generate` writes a tiny KeyedVectors with gensim's own save_word2vec_format (text, and binary:
gensim writes no newline after each vector, word2vec.c does) and the exact float32 values as
JSON; tests/w2v_files.rs reads both files and compares. `check` loads each FILE (text, or
binary for a .bin name) with KeyedVectors.load_word2vec_format and, given a text and a binary
file of the same vectors, checks they hold the same words and values. Needs gensim and numpy
(here: /tmp/torchenv/bin/python, gensim 4.4.0).
"""
import json
import os
import sys

import numpy as np
from gensim.models import KeyedVectors

HERE = os.path.dirname(os.path.abspath(__file__))


def generate():
    rng = np.random.default_rng(13)
    words = ["the", "月", "山", "春", "naïve", "<unk>", "N", "x'y"]
    vecs = rng.standard_normal((len(words), 5)).astype(np.float32)
    vecs[0, 0] = 0.0
    vecs[1, 1] = np.float32(1e-7)
    kv = KeyedVectors(5)
    kv.add_vectors(words, vecs)
    kv.save_word2vec_format(os.path.join(HERE, "w2v_gensim.txt"), binary=False)
    kv.save_word2vec_format(os.path.join(HERE, "w2v_gensim.bin"), binary=True)
    # float32 → Python float is exact, and JSON keeps every digit of a double.
    with open(os.path.join(HERE, "w2v_gensim.json"), "w") as f:
        json.dump({"words": words, "vectors": [float(x) for x in vecs.reshape(-1)]}, f)
    print("wrote w2v_gensim.{txt,bin,json}")


def check(files):
    loaded = []
    for path in files:
        kv = KeyedVectors.load_word2vec_format(path, binary=path.endswith(".bin"))
        print(f"{path}: gensim read {len(kv)} words x {kv.vector_size}")
        loaded.append(kv)
    for a, b in zip(loaded, loaded[1:]):
        assert a.index_to_key == b.index_to_key, "different words"
        assert np.array_equal(a.vectors, b.vectors), "different values"
    if len(loaded) > 1:
        print("all files hold the same words and float32 values")


if __name__ == "__main__":
    if sys.argv[1:2] == ["generate"]:
        generate()
    elif sys.argv[1:2] == ["check"]:
        check(sys.argv[2:])
    else:
        sys.exit(__doc__)
