// Passkeys on the sign-in and invitation pages: progressive enhancement only. Without this
// file (or without WebAuthn) the pages work with an authenticator app and a password.
const b64 = {
  toBytes (text) {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=')
    return Uint8Array.from(atob(base64), c => c.charCodeAt(0))
  },
  fromBytes (buffer) {
    const bytes = new Uint8Array(buffer)
    let text = ''
    for (const b of bytes) text += String.fromCharCode(b)
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  }
}

function creationOptions (json) {
  return {
    ...json,
    challenge: b64.toBytes(json.challenge),
    user: { ...json.user, id: b64.toBytes(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map(c => ({ ...c, id: b64.toBytes(c.id) }))
  }
}

function requestOptions (json) {
  return {
    ...json,
    challenge: b64.toBytes(json.challenge),
    allowCredentials: (json.allowCredentials || []).map(c => ({ ...c, id: b64.toBytes(c.id) }))
  }
}

function serialise (credential) {
  const r = credential.response
  const response = { clientDataJSON: b64.fromBytes(r.clientDataJSON) }
  if (r.attestationObject) {
    response.attestationObject = b64.fromBytes(r.attestationObject)
    response.transports = r.getTransports ? r.getTransports() : []
  } else {
    response.authenticatorData = b64.fromBytes(r.authenticatorData)
    response.signature = b64.fromBytes(r.signature)
    if (r.userHandle) response.userHandle = b64.fromBytes(r.userHandle)
  }
  return {
    id: credential.id,
    rawId: b64.fromBytes(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment || undefined
  }
}

async function run (section) {
  const button = section.querySelector('[data-passkey-start]')
  const error = section.querySelector('[data-passkey-error]')
  const csrf = section.dataset.csrf
  const create = section.dataset.mode === 'register'
  button.disabled = true
  error.hidden = true
  try {
    const form = new URLSearchParams({ csrf_token: csrf })
    const optionsResponse = await fetch(section.dataset.options, { method: 'POST', body: form, credentials: 'same-origin' })
    if (!optionsResponse.ok) throw new Error('options')
    const json = await optionsResponse.json()
    const credential = create
      ? await navigator.credentials.create({ publicKey: creationOptions(json) })
      : await navigator.credentials.get({ publicKey: requestOptions(json) })
    const answer = await fetch(section.dataset.verify, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ csrf_token: csrf, next: section.dataset.next || '', credential: serialise(credential) })
    })
    const result = await answer.json()
    if (!answer.ok || !result.redirect) throw new Error(result.error || 'refused')
    window.location.assign(result.redirect)
  } catch (e) {
    error.hidden = false
    button.disabled = false
  }
}

// WebAuthn takes no IP address as relying party: at 127.0.0.1 (development) only the
// authenticator app is offered; http://localhost works.
const atAnAddress = /^[0-9.]+$/.test(location.hostname) || location.hostname.includes(':')
if (window.PublicKeyCredential && navigator.credentials && !atAnAddress) {
  for (const section of document.querySelectorAll('[data-passkey]')) {
    section.hidden = false
    section.querySelector('[data-passkey-start]').addEventListener('click', () => run(section))
  }
}
