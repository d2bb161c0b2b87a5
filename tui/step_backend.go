package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
)

// backendStep chooses the backend, then checks connectivity and auth.
type backendStep struct {
	form *huh.Form
	// Form-bound values.
	kind, mount, project, region string
	kv                           int
	// checked is the backend that passed Check; nil until then.
	checked migrate.Backend
	// checkErr is the last Check failure.
	checkErr error
}

// editing reports whether the settings form has the keyboard.
func (s *backendStep) editing() bool { return s.form != nil }

func (m *Model) startBackend() tea.Cmd {
	b := m.settings.Backend
	if m.backend.kind != "" { // keep what was typed before
		b = m.backend.settings()
	}
	m.backend = backendStep{kind: b.Kind, mount: b.Mount, project: b.Project, region: b.Region, kv: b.KVVersion}
	if m.backend.mount == "" {
		m.backend.mount = "secret"
	}
	if m.backend.kv == 0 {
		m.backend.kv = 2
	}
	m.goTo(stepBackend)
	return m.backend.edit(m)
}

// edit opens the settings form.
func (s *backendStep) edit(m *Model) tea.Cmd {
	s.checked, s.checkErr = nil, nil
	notEmpty := func(what string) func(string) error {
		return func(v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New(what + " is required")
			}
			return nil
		}
	}
	s.form = huh.NewForm(
		huh.NewGroup(huh.NewSelect[string]().Key("kind").
			Title("Where should the secrets go?").
			Options(
				huh.NewOption("HashiCorp Vault (KV)", plan.BackendVault),
				huh.NewOption("Google Secret Manager", plan.BackendGCP),
				huh.NewOption("AWS Secrets Manager", plan.BackendAWS),
			).Value(&s.kind)),
		huh.NewGroup(
			huh.NewInput().Key("mount").Title("KV mount path").Value(&s.mount).Validate(notEmpty("the mount")),
			huh.NewSelect[int]().Key("kv").Title("KV engine version").
				Options(huh.NewOption("2 (versioned, check-and-set)", 2), huh.NewOption("1", 1)).Value(&s.kv),
		).WithHideFunc(func() bool { return s.kind != plan.BackendVault }),
		huh.NewGroup(
			huh.NewInput().Key("project").Title("GCP project id").Value(&s.project).Validate(notEmpty("the project")),
		).WithHideFunc(func() bool { return s.kind != plan.BackendGCP }),
		huh.NewGroup(
			huh.NewInput().Key("region").Title("AWS region").Placeholder("eu-west-1").Value(&s.region).Validate(notEmpty("the region")),
		).WithHideFunc(func() bool { return s.kind != plan.BackendAWS }),
	).WithShowHelp(false).WithTheme(m.st.form()).WithWidth(min(m.width, 80))
	return s.form.Init()
}

// settings returns the chosen backend settings.
func (s *backendStep) settings() plan.Backend {
	b := plan.Backend{Kind: s.kind}
	switch s.kind {
	case plan.BackendVault:
		b.Mount, b.KVVersion = strings.Trim(strings.TrimSpace(s.mount), "/"), s.kv
	case plan.BackendGCP:
		b.Project = strings.TrimSpace(s.project)
	case plan.BackendAWS:
		b.Region = strings.TrimSpace(s.region)
	}
	return b
}

// checkDoneMsg ends a connectivity check.
type checkDoneMsg struct {
	be  migrate.Backend
	err error
}

// check opens the backend and verifies connectivity and credentials.
func (s *backendStep) check(m *Model) tea.Cmd {
	if m.svc.Open == nil {
		m.fail(errMissing("connecting to a backend"))
		return nil
	}
	open, b := m.svc.Open, s.settings()
	return m.run("checking "+describeBackend(b), func(ctx context.Context, _ func(tea.Msg)) tea.Msg {
		be, err := open(ctx, b)
		if err == nil {
			err = be.Check(ctx)
		}
		return checkDoneMsg{be: be, err: err}
	})
}

func (s *backendStep) update(m *Model, msg tea.Msg) tea.Cmd {
	if s.form != nil {
		f, cmd := s.form.Update(msg)
		s.form = f.(*huh.Form)
		if s.form.State == huh.StateCompleted {
			s.form = nil
			return s.check(m)
		}
		return cmd
	}
	switch msg := msg.(type) {
	case checkDoneMsg:
		m.busy = ""
		if msg.err != nil {
			s.checkErr = msg.err
			return nil
		}
		s.checked = msg.be
		m.be = msg.be
		return nil
	case tea.KeyPressMsg:
		if m.busy != "" {
			return nil
		}
		switch {
		case key.Matches(msg, m.keys.Edit):
			return s.edit(m)
		case key.Matches(msg, m.keys.Retry):
			return s.check(m)
		case key.Matches(msg, m.keys.Continue) && s.checked != nil:
			return m.startPlan()
		}
	}
	return nil
}

func (s *backendStep) bindings(m *Model) []key.Binding {
	if s.form != nil {
		return s.form.KeyBinds()
	}
	k := []key.Binding{m.keys.Edit, m.keys.Retry}
	if s.checked != nil {
		k = append(k, m.keys.Continue)
	}
	return k
}

// describeBackend names a backend and its settings in a few words.
func describeBackend(b plan.Backend) string {
	switch b.Kind {
	case plan.BackendVault:
		return fmt.Sprintf("HashiCorp Vault, KV v%d at mount %q", b.KVVersion, b.Mount)
	case plan.BackendGCP:
		return fmt.Sprintf("Google Secret Manager, project %q", b.Project)
	case plan.BackendAWS:
		return fmt.Sprintf("AWS Secrets Manager, region %q", b.Region)
	}
	return b.Kind
}

// credentialSource says where a backend's credentials come from.
func (m *Model) credentialSource(kind string) string {
	if m.settings.TokenSource != nil {
		if s := m.settings.TokenSource(kind); s != "" {
			return s
		}
	}
	switch kind {
	case plan.BackendVault:
		return "Vault address and token come from VAULT_ADDR and VAULT_TOKEN (else the token helper or ~/.vault-token)."
	case plan.BackendGCP:
		return "Credentials come from Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS or gcloud auth application-default login)."
	case plan.BackendAWS:
		return "Credentials come from the AWS default chain (environment, shared config and SSO profiles, instance role)."
	}
	return ""
}

func (s *backendStep) view(m *Model) string {
	var b strings.Builder
	kind := s.kind
	if s.form != nil {
		b.WriteString(s.form.View() + "\n\n")
	} else {
		b.WriteString("Backend: " + m.st.Key.Render(describeBackend(s.settings())) + "\n\n")
	}
	b.WriteString(m.st.Muted.Render(m.credentialSource(kind)) + "\n")
	b.WriteString(m.st.Muted.Render("env2vault never asks for a token and never stores one.") + "\n\n")
	switch {
	case s.form != nil:
	case m.busy != "":
		b.WriteString("Checking connectivity and credentials…\n")
	case s.checkErr != nil:
		b.WriteString(m.st.Err.Render("✗ Check failed: "+s.checkErr.Error()) + "\n\n")
		b.WriteString("Fix the settings (e) or the credentials in your environment, then retry (r).\n")
	case s.checked != nil:
		b.WriteString(m.st.OK.Render("✓ Connected and authenticated.") + " Press enter to build the plan.\n")
	}
	return b.String()
}
