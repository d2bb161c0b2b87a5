package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/table"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"
)

// styles are the wizard's look. Without colour (NO_COLOR, a dumb
// terminal, golden tests) every style is plain text, emphasis at most.
type styles struct {
	color   bool
	Title   lipgloss.Style
	Step    lipgloss.Style
	Rule    lipgloss.Style
	Muted   lipgloss.Style
	OK      lipgloss.Style
	Warn    lipgloss.Style
	Err     lipgloss.Style
	Key     lipgloss.Style
	Added   lipgloss.Style
	Removed lipgloss.Style
	Hunk    lipgloss.Style
}

func newStyles(color bool) styles {
	s := styles{color: color}
	plain := lipgloss.NewStyle()
	if !color {
		s.Title, s.Step, s.Rule, s.Muted = plain.Bold(true), plain, plain, plain
		s.OK, s.Warn, s.Err, s.Key = plain, plain, plain, plain
		s.Added, s.Removed, s.Hunk = plain, plain, plain
		return s
	}
	s.Title = plain.Bold(true).Foreground(lipgloss.Color("212"))
	s.Step = plain.Foreground(lipgloss.Color("99"))
	s.Rule = plain.Foreground(lipgloss.Color("240"))
	s.Muted = plain.Foreground(lipgloss.Color("245"))
	s.OK = plain.Foreground(lipgloss.Color("42"))
	s.Warn = plain.Foreground(lipgloss.Color("214"))
	s.Err = plain.Foreground(lipgloss.Color("196")).Bold(true)
	s.Key = plain.Foreground(lipgloss.Color("212"))
	s.Added = plain.Foreground(lipgloss.Color("42"))
	s.Removed = plain.Foreground(lipgloss.Color("203"))
	s.Hunk = plain.Foreground(lipgloss.Color("69"))
	return s
}

// table returns the table styles.
func (s styles) table() table.Styles {
	t := table.DefaultStyles()
	if !s.color {
		t.Selected = lipgloss.NewStyle().Reverse(true)
		t.Header = lipgloss.NewStyle().Bold(true).Padding(0, 1)
	}
	return t
}

// help returns the key help styles.
func (s styles) help() help.Styles {
	if s.color {
		return help.DefaultDarkStyles()
	}
	plain := lipgloss.NewStyle()
	return help.Styles{Ellipsis: plain, ShortKey: plain, ShortDesc: plain, ShortSeparator: plain, FullKey: plain, FullDesc: plain, FullSeparator: plain}
}

// form returns the huh theme.
func (s styles) form() huh.Theme {
	if s.color {
		return huh.ThemeFunc(huh.ThemeCharm)
	}
	return huh.ThemeFunc(huh.ThemeBase)
}
