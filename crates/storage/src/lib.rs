//! The embedded database of Mosaic (redb): flat and hashed state, trie nodes,
//! blocks and per-block history. Work in progress.
