// passkeys: filled in when WebAuthn sign-in lands
