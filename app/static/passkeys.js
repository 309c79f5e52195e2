// Passkeys (WebAuthn): a form marked data-passkey asks its data-options address for the
// ceremony's options, lets the browser make ("register") or use ("sign-in") a passkey, puts
// the browser's answer in the form's "answer" field and sends the form. Without a browser
// that knows passkeys the forms stay hidden and the .passkeys-unsupported notes stay shown.
(() => {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }
  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  };
  const toText = (buffer) => {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) {
      binary += String.fromCharCode(byte);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const withIds = (list) => (list || []).map((item) => ({ ...item, id: toBytes(item.id) }));

  async function makePasskey(options) {
    const publicKey = {
      ...options,
      challenge: toBytes(options.challenge),
      user: { ...options.user, id: toBytes(options.user.id) },
      excludeCredentials: withIds(options.excludeCredentials),
    };
    const made = await navigator.credentials.create({ publicKey });
    return {
      id: made.id,
      rawId: toText(made.rawId),
      type: made.type,
      response: {
        clientDataJSON: toText(made.response.clientDataJSON),
        attestationObject: toText(made.response.attestationObject),
        transports: made.response.getTransports ? made.response.getTransports() : [],
      },
      clientExtensionResults: made.getClientExtensionResults(),
      authenticatorAttachment: made.authenticatorAttachment,
    };
  }

  async function usePasskey(options) {
    const publicKey = {
      ...options,
      challenge: toBytes(options.challenge),
      allowCredentials: withIds(options.allowCredentials),
    };
    const used = await navigator.credentials.get({ publicKey });
    const response = used.response;
    return {
      id: used.id,
      rawId: toText(used.rawId),
      type: used.type,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        authenticatorData: toText(response.authenticatorData),
        signature: toText(response.signature),
        userHandle: response.userHandle ? toText(response.userHandle) : null,
      },
      clientExtensionResults: used.getClientExtensionResults(),
      authenticatorAttachment: used.authenticatorAttachment,
    };
  }

  function say(form, message) {
    const place = form.querySelector(".passkey-error");
    place.textContent = message;
  }

  function showFieldErrors(form, errors) {
    const first = Object.entries(errors)[0];
    const field = first && form.elements[first[0]];
    say(form, first ? first[1][0] : form.dataset.failed);
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  async function askOptions(form) {
    const body = new FormData(form);
    body.delete("answer");
    const reply = await fetch(form.dataset.options, {
      method: "POST",
      body,
      headers: { "X-CSRFToken": form.elements.csrf_token.value, Accept: "application/json" },
      credentials: "same-origin",
    });
    const content = await reply.json().catch(() => ({}));
    if (content.go) {
      window.location.assign(content.go);
      return null;
    }
    if (!reply.ok) {
      if (content.errors) {
        showFieldErrors(form, content.errors);
      } else {
        say(form, content.error || form.dataset.failed);
      }
      return null;
    }
    return content;
  }

  async function run(form, submitter) {
    say(form, "");
    if (submitter) submitter.disabled = true;
    try {
      const options = await askOptions(form);
      if (!options) return;
      const register = form.dataset.passkey === "register";
      const answer = register ? await makePasskey(options) : await usePasskey(options);
      form.elements.answer.value = JSON.stringify(answer);
      const remember = document.querySelector('input[name="remember"][type="checkbox"]');
      if (form.elements.remember && remember && remember.form !== form) {
        form.elements.remember.value = remember.checked ? "y" : "";
      }
      form.submit();
    } catch (error) {
      const cancelled = error && (error.name === "NotAllowedError" || error.name === "AbortError");
      say(form, cancelled ? form.dataset.cancelled : form.dataset.failed);
    } finally {
      if (submitter) submitter.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const note of document.querySelectorAll(".passkeys-unsupported")) {
      note.hidden = true;
    }
    for (const form of document.querySelectorAll("form[data-passkey]")) {
      form.hidden = false;
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        run(form, event.submitter);
      });
    }
  });
})();
