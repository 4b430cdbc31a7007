//! Printers for `rnn-lab probe`: a JSON document for scripts and a compact text table.
