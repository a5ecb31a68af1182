#!/usr/bin/env python3
"""Bittensor key files made and read by the real bittensor-wallet, for Gauntlet's tests.

Run with the interpreter of <repo>/.venv-bt (scripts/reference/setup-bt-venv.sh):

    python wallet.py make DIR PASSWORD
        creates, under the wallets directory DIR: wallet "bt" with a password-encrypted
        coldkey ($NACL) and its coldkeypub.txt, a plain hotkey "plain" and an encrypted
        hotkey "locked"; and wallet "vault" whose coldkey is Ansible Vault encrypted (the
        package's legacy format, still read). Prints JSON: each key's SS58 address.
    python wallet.py read DIR WALLET HOTKEY PASSWORD
        loads WALLET's coldkey, coldkeypub and hotkey HOTKEY with bittensor-wallet, the
        password given for every encrypted file; prints JSON of their SS58 addresses and
        the hex signature of b"gauntlet" by each secret key.
    python wallet.py env-var PATH PASSWORD
        prints `NAME=VALUE` of the environment variable in which bittensor-wallet keeps
        the password of the key file at PATH (Keyfile.save_password_to_env).
"""

import ctypes
import json
import os
import sys

from bittensor_wallet import Keypair, Wallet
from bittensor_wallet.keyfile import Keyfile, legacy_encrypt_keyfile_data, serialized_keypair_to_keyfile_data


def make(root, password):
    bt = Wallet(name="bt", hotkey="plain", path=root)
    bt.create_new_coldkey(use_password=True, overwrite=True, suppress=True, coldkey_password=password)
    bt.create_new_hotkey(use_password=False, overwrite=True, suppress=True)
    locked = Wallet(name="bt", hotkey="locked", path=root)
    locked.create_new_hotkey(use_password=True, overwrite=True, suppress=True, hotkey_password=password)

    vault = Wallet(name="vault", hotkey="plain", path=root)
    key = Keypair.create_from_mnemonic(Keypair.generate_mnemonic(12))
    data = legacy_encrypt_keyfile_data(serialized_keypair_to_keyfile_data(key), password)
    os.makedirs(os.path.join(root, "vault"), exist_ok=True)
    with open(os.path.join(root, "vault", "coldkey"), "wb") as f:
        f.write(data)
    return {
        "bt_coldkey": bt.get_coldkey(password).ss58_address,
        "bt_coldkeypub": bt.get_coldkeypub().ss58_address,
        "bt_plain": bt.get_hotkey().ss58_address,
        "bt_locked": locked.get_hotkey(password).ss58_address,
        "vault_coldkey": key.ss58_address,
    }


def read(root, wallet, hotkey, password):
    w = Wallet(name=wallet, hotkey=hotkey, path=root)
    out = {}
    for name, key in (
        ("coldkey", w.get_coldkey(password)),
        ("hotkey", w.get_hotkey(password)),
    ):
        out[name] = key.ss58_address
        out[name + "_signature"] = bytes(key.sign(b"gauntlet")).hex()
    out["coldkeypub"] = w.get_coldkeypub().ss58_address
    return out


def env_var(path, password):
    keyfile = Keyfile(path=path, name="gauntlet-test")
    keyfile.save_password_to_env(password)
    name = keyfile.env_var_name()
    # The package sets it with the C library; Python's os.environ is a copy from start-up.
    libc = ctypes.CDLL(None)
    libc.getenv.restype = ctypes.c_char_p
    value = libc.getenv(name.encode())
    return f"{name}={value.decode()}"


def main():
    args = sys.argv[1:]
    if args[:1] == ["make"] and len(args) == 3:
        print(json.dumps(make(args[1], args[2])))
    elif args[:1] == ["read"] and len(args) == 5:
        print(json.dumps(read(*args[1:])))
    elif args[:1] == ["env-var"] and len(args) == 3:
        print(env_var(args[1], args[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
