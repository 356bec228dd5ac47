import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";

import { ErrorAlert } from "../ErrorAlert";
import { useTitle } from "../title";
import { securityPost } from "./security";

/** Log in: e-mail and password, then the authenticator's code when the account has 2FA. */
export function LoginPage() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [remember, setRemember] = useState(false);
  const [code, setCode] = useState("");
  const [needsCode, setNeedsCode] = useState(false);
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const done = async () => {
    // Who is logged in, and their cart (a guest's merged into it): known before moving on.
    await client.invalidateQueries();
    const next = params.get("next") ?? "";
    navigate(next.startsWith("/") && !next.startsWith("//") ? next : "/account");
  };
  const login = useMutation({
    mutationFn: () => securityPost("/login", { email: email.trim(), password, remember }),
    onSuccess: (answer) => (answer.tf_required ? setNeedsCode(true) : done()),
  });
  const validate = useMutation({
    mutationFn: () => securityPost("/tf-validate", { code: code.trim() }),
    onSuccess: done,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    (needsCode ? validate : login).mutate();
  };
  return (
    <AuthForm title="Log in" onSubmit={submit} error={login.error ?? validate.error}>
      {!needsCode ? (
        <>
          <Input id="email" label="E-mail" type="email" autoComplete="username" value={email} onChange={setEmail} />
          <Input id="password" label="Password" type="password" autoComplete="current-password" value={password}
            onChange={setPassword} />
          <div className="form-check mb-3">
            <input id="remember" type="checkbox" className="form-check-input" checked={remember}
              onChange={(e) => setRemember(e.target.checked)} />
            <label htmlFor="remember" className="form-check-label">Remember me</label>
          </div>
          <button type="submit" className="btn btn-primary" disabled={login.isPending}>Log in</button>
          <p className="mt-3">
            <Link to="/reset">Forgot your password?</Link> · <Link to="/register">Register</Link>
          </p>
        </>
      ) : (
        <>
          <p>Enter the code your authenticator app shows for this shop.</p>
          <Input id="code" label="Authentication code" autoComplete="one-time-code" inputMode="numeric" value={code}
            onChange={setCode} />
          <button type="submit" className="btn btn-primary" disabled={validate.isPending}>Verify</button>
          <p className="mt-3">
            Lost your device? <a href="/mf-recovery">Use a recovery code</a>.
          </p>
        </>
      )}
    </AuthForm>
  );
}

/** Register: the confirmation link goes to the address given. */
export function RegisterPage() {
  const [email, setEmail] = useState("");
  const [passwords, setPasswords] = useState(NO_PASSWORDS);
  const register = useMutation({
    mutationFn: () => securityPost("/register", { email: email.trim(), ...passwords }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    register.mutate();
  };
  if (register.isSuccess) {
    return (
      <div className="alert alert-success" role="status">
        Thank you. We have sent a link to <strong>{email.trim()}</strong>: open it to confirm your address, then{" "}
        <Link to="/login">log in</Link>.
      </div>
    );
  }
  return (
    <AuthForm title="Register" onSubmit={submit} error={register.error}>
      <Input id="email" label="E-mail" type="email" autoComplete="email" value={email} onChange={setEmail} />
      <NewPassword label="Password" value={passwords} onChange={setPasswords} />
      <button type="submit" className="btn btn-primary" disabled={register.isPending}>Register</button>
    </AuthForm>
  );
}

/** Forgotten password: a reset link by e-mail, which opens NewPasswordPage. */
export function ResetPage() {
  const [email, setEmail] = useState("");
  const reset = useMutation({ mutationFn: () => securityPost("/reset", { email: email.trim() }) });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    reset.mutate();
  };
  if (reset.isSuccess) {
    return (
      <div className="alert alert-success" role="status">
        We have sent instructions to reset your password to <strong>{email.trim()}</strong>.
      </div>
    );
  }
  return (
    <AuthForm title="Reset your password" onSubmit={submit} error={reset.error}>
      <Input id="email" label="E-mail" type="email" autoComplete="email" value={email} onChange={setEmail} />
      <button type="submit" className="btn btn-primary" disabled={reset.isPending}>Send the link</button>
    </AuthForm>
  );
}

/** A new password, from the mailed link (/app/reset/<token>): Flask-Security's JSON
 * POST /reset/<token>. It does not log in (Flask-Security's default, as OWASP advises). */
export function NewPasswordPage() {
  const { token = "" } = useParams();
  const [passwords, setPasswords] = useState(NO_PASSWORDS);
  const change = useMutation({
    mutationFn: () => securityPost(`/reset/${encodeURIComponent(token)}`, passwords),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate();
  };
  if (change.isSuccess) {
    return (
      <div className="alert alert-success" role="status">
        Your password is changed. <Link to="/login">Log in</Link> with it.
      </div>
    );
  }
  return (
    <AuthForm title="Choose a new password" onSubmit={submit} error={change.error}>
      <NewPassword label="New password" value={passwords} onChange={setPasswords} />
      <button type="submit" className="btn btn-primary" disabled={change.isPending}>Change the password</button>
      <p className="mt-3">
        Has the link expired? <Link to="/reset">Ask for a new one</Link>.
      </p>
    </AuthForm>
  );
}

/** A new password and the same again, as Flask-Security's register and reset views take them. */
interface Passwords {
  password: string;
  password_confirm: string;
}

const NO_PASSWORDS: Passwords = { password: "", password_confirm: "" };

function NewPassword({ label, value, onChange }: {
  label: string;
  value: Passwords;
  onChange: (value: Passwords) => void;
}) {
  return (
    <>
      <Input id="password" label={label} type="password" autoComplete="new-password" value={value.password}
        onChange={(password) => onChange({ ...value, password })}
        hint="At least 8 characters; a phrase of a few words is strong and easy to remember." />
      <Input id="password-confirm" label={`${label} again`} type="password" autoComplete="new-password"
        value={value.password_confirm} onChange={(password_confirm) => onChange({ ...value, password_confirm })} />
    </>
  );
}

function AuthForm({ title, onSubmit, error, children }: {
  title: string;
  onSubmit: (event: FormEvent) => void;
  error: Error | null;
  children: ReactNode;
}) {
  useTitle(title);
  return (
    <div className="row justify-content-center">
      <form className="col-md-6 col-lg-5" onSubmit={onSubmit}>
        <h1 className="h3 mb-3">{title}</h1>
        <div aria-live="polite">{error && <ErrorAlert error={error} />}</div>
        {children}
      </form>
    </div>
  );
}

export function Input({ id, label, value, onChange, hint, ...rest }: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: string;
  type?: string;
  autoComplete?: string;
  inputMode?: "numeric";
}) {
  return (
    <div className="mb-3">
      <label htmlFor={id} className="form-label">{label}</label>
      <input id={id} className="form-control" required value={value} onChange={(e) => onChange(e.target.value)}
        aria-describedby={hint ? `${id}-hint` : undefined} {...rest} />
      {hint && <div id={`${id}-hint`} className="form-text">{hint}</div>}
    </div>
  );
}
