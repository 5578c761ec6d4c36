// Log in with the platform's users (contract #2) or paste a token (e.g. a ServiceAccount's).
import { useState } from "react";
import { ActionGroup, Alert, Button, Form, FormGroup, PageSection, TextInput, Title, Card, CardBody, ExpandableSection, TextArea } from "@patternfly/react-core";
import { login } from "../api/client";

export function Login({ onLoggedIn }: { onLoggedIn: (token: string) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await login(username, password);
      onLoggedIn(r.token);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <PageSection>
        <Card style={{ maxWidth: 480, margin: "4rem auto" }}>
          <CardBody>
            <Title headingLevel="h1">Log in to Marketplace</Title>
            {error && <Alert variant="danger" isInline title={error} role="alert" />}
            <Form onSubmit={submit}>
              <FormGroup label="Username" isRequired fieldId="login-username">
                <TextInput id="login-username" isRequired value={username} onChange={(_e, v) => setUsername(v)} autoComplete="username" />
              </FormGroup>
              <FormGroup label="Password" isRequired fieldId="login-password">
                <TextInput id="login-password" type="password" isRequired value={password} onChange={(_e, v) => setPassword(v)} autoComplete="current-password" />
              </FormGroup>
              <ActionGroup>
                <Button type="submit" isDisabled={busy || !username || !password} isLoading={busy}>Log in</Button>
              </ActionGroup>
            </Form>
            <ExpandableSection toggleText="Use a token instead">
              <Form onSubmit={(e) => { e.preventDefault(); if (token.trim()) onLoggedIn(token.trim()); }}>
                <FormGroup label="Bearer token" fieldId="login-token">
                  <TextArea id="login-token" value={token} onChange={(_e, v) => setToken(v)} rows={3} />
                </FormGroup>
                <ActionGroup>
                  <Button type="submit" variant="secondary" isDisabled={!token.trim()}>Use token</Button>
                </ActionGroup>
              </Form>
            </ExpandableSection>
          </CardBody>
        </Card>
      </PageSection>
    </main>
  );
}
