//! File cycles: groups of files of one crate that each reach the others
//! through their edges (strongly connected components of more than one
//! file). A cycle means no file of it can be read, tested or moved alone.

use crate::modules::Tree;

/// The cycles that were there when this check came, each to be broken,
/// relative to the workspace root: one line per cycle, its files separated
/// by spaces. A cycle that changes (grows, shrinks, splits) must have its
/// line changed too, so the list tracks the truth.
pub const KNOWN: &str = "tests/house/known-cycles.txt";

/// The cycles of a tree, each as the indices of its files (sorted), and
/// the cycles sorted by their first file.
pub fn cycles(tree: &Tree) -> Vec<Vec<usize>> {
    let n = tree.files.len();
    let mut adjacency = vec![Vec::new(); n];
    for e in &tree.edges {
        adjacency[e.from].push(e.to);
    }
    // Tarjan's algorithm, iterative so that deep trees cannot overflow the stack.
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work = vec![(start, 0usize)];
        while let Some(&mut (v, ref mut child)) = work.last_mut() {
            if *child == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = adjacency[v].get(*child) {
                *child += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    out.push(component);
                }
            }
        }
    }
    out.sort();
    out
}

/// A cycle told for people: each edge inside it, with the line that makes it.
pub fn describe(tree: &Tree, cycle: &[usize]) -> String {
    let mut text = format!(
        "a file cycle in {}: {}\n",
        tree.root,
        cycle
            .iter()
            .map(|&i| tree.files[i].file.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for e in tree
        .edges
        .iter()
        .filter(|e| cycle.contains(&e.from) && cycle.contains(&e.to))
    {
        text.push_str(&format!(
            "    {}:{} names {} ({})\n",
            tree.files[e.from].file,
            e.line,
            tree.name(e.to),
            tree.files[e.to].file
        ));
    }
    text.push_str(
        "  break it: move what both sides need into a module of its own (or into the lower one), \
         so that the names point one way\n",
    );
    text
}
