package render

import (
	"fmt"
	"strings"
	"unicode"
)

// Mesh is an App Mesh resource parsed from the node id: ".../mesh/MESH/TYPE/NAME[/...]".
type Mesh struct {
	Mesh      string // mesh name
	Type      string // e.g. virtualNode, virtualGateway
	Name      string // resource name
	SnakeType string // virtual_node
	UpperType string // VirtualNode
}

// parseMesh splits the node id on "/"; the reference takes parts 1..3 of any id with four or more
// parts (so an ECS task-set ARN "parses" too: cluster/service/ecs-svc).
func parseMesh(id string) (Mesh, error) {
	parts := strings.Split(id, "/")
	if len(parts) < 4 {
		//lint:ignore ST1005 the reference agent's message, which the conformance corpus checks
		return Mesh{}, fmt.Errorf("Unrecognized resource name format: %s", id)
	}
	m := Mesh{Mesh: parts[1], Type: parts[2], Name: parts[3]}
	var snake strings.Builder
	for i, r := range m.Type {
		if unicode.IsUpper(r) && i > 0 {
			snake.WriteByte('_')
		}
		snake.WriteRune(unicode.ToLower(r))
	}
	m.SnakeType = snake.String()
	if m.Type != "" {
		r := []rune(m.Type)
		r[0] = unicode.ToUpper(r[0])
		m.UpperType = string(r)
	}
	return m, nil
}
