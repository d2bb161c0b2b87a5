package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/env2vault/env2vault/discover"
)

func TestChecklistGolden(t *testing.T) {
	p := buildFixture(t, BuildOptions{})
	for _, phase := range []string{"all", "inventory", "planning", "implementation", "rollout"} {
		phases, err := Checklist(p, phase)
		if err != nil {
			t.Fatal(err)
		}
		var md, js bytes.Buffer
		if err := WriteChecklistMarkdown(&md, p, phases); err != nil {
			t.Fatal(err)
		}
		if err := WriteChecklistJSON(&js, p, phases); err != nil {
			t.Fatal(err)
		}
		golden(t, "checklist-"+phase+".md", md.Bytes())
		golden(t, "checklist-"+phase+".json", js.Bytes())
		if !json.Valid(js.Bytes()) {
			t.Errorf("%s: JSON checklist is not valid JSON", phase)
		}
	}
}

func TestChecklistPhases(t *testing.T) {
	p := buildFixture(t, BuildOptions{})
	all, err := Checklist(p, "")
	if err != nil || len(all) != 4 {
		t.Fatalf("Checklist(all) = %d phases, %v", len(all), err)
	}
	for i, ph := range all {
		if ph.Name != PhaseNames[i] {
			t.Errorf("phase %d = %s, want %s", i, ph.Name, PhaseNames[i])
		}
		if len(ph.Items) == 0 {
			t.Errorf("phase %s has no items", ph.Name)
		}
	}
	one, err := Checklist(p, "Rollout")
	if err != nil || len(one) != 1 || one[0].Name != PhaseRollout {
		t.Errorf("Checklist(Rollout) = %v, %v", one, err)
	}
	if _, err := Checklist(p, "party"); err == nil || !strings.Contains(err.Error(), `"party"`) {
		t.Errorf("unknown phase: %v", err)
	}
}

// The spec's example items appear for the fixture's findings.
func TestChecklistItemsFromFindings(t *testing.T) {
	p := buildFixture(t, BuildOptions{})
	texts := map[string]string{}
	for _, ph := range p.Phases {
		for _, it := range ph.Items {
			texts[it.ID] = it.Text
		}
	}
	want := map[string]string{
		"implementation.rotate.stripe-secret-key-prod":                                        "Rotate stripe-secret-key-prod at Stripe and store the new value at vault://secret/billing-api/stripe-secret-key-prod#value: exposed in git history of billing-api (.env.production)",
		"rollout.revoke.stripe-secret-key-prod":                                               "Revoke the old value of stripe-secret-key-prod at Stripe after the new one is confirmed working in prod",
		"implementation.pre-commit.web":                                                       "Install the gitleaks pre-commit hook in web",
		"implementation.frontend.web-public-config-js.maps-key":                               "Move the maps key in web/public/config.js behind a backend proxy",
		"implementation.ci.teams-ml-ml-service-github-workflows-deploy-yml.slack-webhook-url": "Create the GitHub Actions secret SLACK_WEBHOOK_URL (or use OIDC)",
		"planning.separate-environments":                                                      "separate credentials per environment",
		"planning.audit-logging":                                                              "audit device",
		"planning.least-privilege":                                                            "least-privilege",
		"planning.secret-zero":                                                                "secret-zero with platform identity",
		"planning.split.web-session-secret-dev":                                               "web-session-secret-dev and web-session-secret-prod",
		"inventory.history.billing-api":                                                       ".env.production",
	}
	for id, frag := range want {
		got, ok := texts[id]
		if !ok {
			t.Errorf("no item %s", id)
			continue
		}
		if !strings.Contains(got, frag) {
			t.Errorf("item %s = %q, want it to contain %q", id, got, frag)
		}
	}
}

// Item IDs name what an item is about, so re-planning with one more
// secret keeps every ID that still applies.
func TestChecklistIDsStable(t *testing.T) {
	before := buildFixture(t, BuildOptions{})
	res := loadFixture(t)
	res.Findings = append(res.Findings, discover.Finding{Kind: discover.KindEnvFile, Root: "/org", Repo: "web", Path: ".env", Line: 9,
		Key: "AAA_TOKEN", Classification: discover.ClassSecret, Fingerprint: "hmac-sha256:00000000000000000000000000000000"})
	after, err := Build(context.Background(), res, BuildOptions{Lookup: fixtureLookup})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, ph := range after.Phases {
		for _, it := range ph.Items {
			ids[it.ID] = true
		}
	}
	for _, ph := range before.Phases {
		for _, it := range ph.Items {
			if !ids[it.ID] {
				t.Errorf("item %s disappeared after adding an unrelated secret", it.ID)
			}
		}
	}
}

func TestChecklistConflicts(t *testing.T) {
	p := buildFixture(t, BuildOptions{Backend: Backend{Kind: BackendGCP, Project: "acme"}})
	p.Secrets[0].Action = ActionConflict
	p.Secrets[1].Action = ActionUpdate
	p.DiffStatus = "live"
	p.Refresh()
	var md bytes.Buffer
	phases, _ := Checklist(p, "planning")
	if err := WriteChecklistMarkdown(&md, p, phases); err != nil {
		t.Fatal(err)
	}
	golden(t, "checklist-planning-gcp-live.md", md.Bytes())
	if strings.Contains(md.String(), "planning.live-diff") {
		t.Error("a live plan asks for a live diff")
	}
}
