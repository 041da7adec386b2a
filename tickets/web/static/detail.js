// The parts of the engineer's ticket screen: deadlines, equipment and site, what was
// detected, the checklist, the history, and the completion form.
import { api, h, fill, countdown, formatTime } from "./common.js";

const EVIDENCE_SHOWN = 10;
const seen = new Map(); // last answers per URL: shown at once while a fresh read runs

export function slaPanel(t) {
  const rows = [
    ["Accept", t.sla.accept_by, t.accepted_at],
    ["Arrive", t.sla.arrive_by, t.arrived_at],
    ["Resolve", t.sla.resolve_by, t.completed_at],
  ].filter(([, due]) => due);
  return h(
    "section",
    { "aria-labelledby": "sla-title" },
    h("h2", { id: "sla-title" }, "Deadlines"),
    h(
      "dl",
      { class: "facts" },
      rows.flatMap(([what, due, done]) => [
        h("dt", {}, `${what} by`),
        h(
          "dd",
          {},
          formatTime(due),
          " · ",
          done
            ? h("span", {}, `done ${formatTime(done)}`)
            : h(
                "span",
                { class: "countdown", dataset: { deadline: JSON.stringify({ what, at: due }) } },
                countdown({ what, at: due }),
              ),
        ),
      ]),
    ),
  );
}

export function detectedPanel(t) {
  const evidence = (t.evidence || []).slice(-EVIDENCE_SHOWN).reverse();
  return h(
    "section",
    { "aria-labelledby": "detected-title" },
    h("h2", { id: "detected-title" }, "What was detected"),
    t.description ? h("p", {}, t.description) : null,
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Kind"),
      h("dd", {}, t.kind),
      t.cause ? [h("dt", {}, "Cause"), h("dd", {}, t.cause)] : null,
      t.event_count ? [h("dt", {}, "Seen"), h("dd", {}, `${t.event_count} time(s)`)] : null,
    ),
    evidence.length
      ? h(
          "details",
          { open: true },
          h("summary", {}, `Evidence (${t.evidence.length})`),
          h("ul", { class: "evidence" }, evidence.map(evidenceItem)),
        )
      : h("p", { class: "hint" }, "No device evidence: opened by hand."),
  );
}

function evidenceItem(item) {
  return h(
    "li",
    {},
    h(
      "dl",
      { class: "facts" },
      Object.entries(item).flatMap(([key, value]) => [
        h("dt", {}, key.replaceAll("_", " ")),
        h("dd", {}, typeof value === "object" ? JSON.stringify(value) : String(value)),
      ]),
    ),
  );
}

export function checklistPanel(t) {
  if (!t.checklist?.length) return null;
  return h(
    "section",
    { "aria-labelledby": "checklist-title" },
    h("h2", { id: "checklist-title" }, "Checklist"),
    h(
      "ol",
      { class: "checklist" },
      t.checklist.map((step) =>
        h("li", {}, stepLabel(step), step.required ? null : h("span", { class: "hint" }, " (optional)")),
      ),
    ),
  );
}

function stepLabel(step) {
  const range =
    step.kind === "measure" && (step.min !== null || step.max !== null)
      ? ` (${step.min ?? "…"}–${step.max ?? "…"})`
      : "";
  return `${step.label}${range}`;
}

/** Read through the service worker (network first, saved copy offline); show the last
 *  answer at once. `draw(data|null)` renders; null means "not available here". */
async function readInto(path, draw) {
  if (seen.has(path)) draw(seen.get(path));
  try {
    const data = await api(path);
    seen.set(path, data);
    draw(data);
  } catch {
    if (!seen.has(path)) draw(null);
  }
}

export function loadContext(t) {
  readInto(`/tickets/${t.id}/context`, (context) => {
    const section = document.getElementById("context");
    if (!section) return;
    const parts = [h("h2", {}, "Equipment and site")];
    if (!context) parts.push(h("p", { class: "hint" }, "Not available offline."));
    else parts.push(equipmentFacts(context.equipment), siteFacts(context.site));
    fill(section, ...parts);
  });
}

function equipmentFacts(unit) {
  if (!unit) return h("p", { class: "hint" }, "No equipment recorded.");
  const facts = [
    ["Unit", unit.id],
    ["Kind", unit.kind],
    ["Model", unit.model],
    ["Serial", unit.serial],
    ["Criticality", unit.criticality],
  ];
  return h(
    "dl",
    { class: "facts" },
    facts.filter(([, v]) => v).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

function siteFacts(site) {
  if (!site) return h("p", { class: "hint" }, "No site recorded.");
  const located = site.lat !== null && site.lon !== null;
  return h(
    "div",
    {},
    h("p", {}, h("strong", {}, site.name), site.address ? ` · ${site.address}` : ""),
    site.customer ? h("p", { class: "meta" }, `Customer: ${site.customer}`) : null,
    located
      ? h(
          "p",
          { class: "row" },
          h("a", { class: "button", href: site.map_url, target: "_blank", rel: "noopener" }, "Open map"),
          h("a", { class: "button", href: `geo:${site.lat},${site.lon}?q=${site.lat},${site.lon}` }, "Navigate"),
        )
      : h("p", { class: "hint" }, "The site has no coordinates."),
  );
}

export function loadHistory(t) {
  readInto(`/tickets/${t.id}/history`, (entries) => {
    const section = document.getElementById("history");
    if (!section) return;
    const queued = t.queued.map((e) =>
      h("li", { class: "queued" }, `Waiting to sync: ${e.action} (taken ${formatTime(e.takenAt)})`),
    );
    const done = (entries || []).slice().reverse().map(historyItem);
    fill(
      section,
      h("h2", {}, "History"),
      entries ? null : h("p", { class: "hint" }, "Not available offline."),
      h("ol", { class: "history", reversed: true }, queued, done),
    );
  });
}

function historyItem(e) {
  const move = e.from_status ? ` (${e.from_status} → ${e.to_status})` : "";
  return h(
    "li",
    {},
    h("time", { datetime: e.at }, formatTime(e.at)),
    ` ${e.action}${move} by ${e.actor_kind} ${e.actor_id}`,
    e.reason ? ` · ${e.reason}` : "",
  );
}

// ---- completion ----

/** The completion form; `submit(body)` gets the ActionIn body once it validates. */
export function completeForm(t, submit) {
  const steps = t.checklist || [];
  const materials = h("div", { id: "materials", class: "stack" });
  const addMaterial = () => materials.append(materialRow(materials.children.length + 1));
  addMaterial();
  const form = h(
    "form",
    { id: "complete-form", class: "stack", novalidate: true },
    h("h2", {}, "Complete the work"),
    h("label", { for: "work-done" }, "Work done"),
    h("textarea", { id: "work-done", rows: 4, required: true }),
    h(
      "fieldset",
      {},
      h("legend", {}, "Materials used"),
      materials,
      h("button", { type: "button", onclick: addMaterial }, "Add material"),
    ),
    steps.length ? h("fieldset", {}, h("legend", {}, "Checklist"), steps.map(stepField)) : null,
    ratingField(),
    h("label", { for: "signature" }, "Customer's name (signature)"),
    h("input", { id: "signature", autocomplete: "off" }),
    h("label", { for: "comment" }, "Comment (optional)"),
    h("textarea", { id: "comment", rows: 2 }),
    h("div", { id: "complete-errors", class: "error", role: "alert" }),
    h("button", { type: "submit", class: "primary" }, "Complete ticket"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { body, errors } = readCompletion(form, steps);
    const box = form.querySelector("#complete-errors");
    fill(box, ...errors.map((text) => h("p", {}, text)));
    if (!errors.length) submit(body);
  });
  return form;
}

function materialRow(n) {
  return h(
    "div",
    { class: "row material" },
    h("label", { for: `material-${n}` }, `Material ${n}`),
    h("input", { id: `material-${n}`, class: "material-name" }),
    h("label", { for: `quantity-${n}` }, "Quantity"),
    h("input", {
      id: `quantity-${n}`,
      class: "material-quantity",
      type: "number",
      min: "0",
      step: "any",
      inputmode: "decimal",
    }),
  );
}

function stepField(step) {
  const id = `step-${step.id}`;
  const label = `${stepLabel(step)}${step.required ? "" : " (optional)"}`;
  if (step.kind === "check") {
    return h(
      "div",
      { class: "check" },
      h("input", { type: "checkbox", id, dataset: { step: step.id } }),
      h("label", { for: id }, label),
    );
  }
  const input =
    step.kind === "measure"
      ? h("input", { id, type: "number", step: "any", inputmode: "decimal", dataset: { step: step.id } })
      : h("input", {
          id,
          dataset: { step: step.id },
          placeholder: step.kind === "photo" ? "photo file name or reference" : "",
        });
  return h("div", { class: "stack" }, h("label", { for: id }, label), input);
}

function ratingField() {
  const stars = [1, 2, 3, 4, 5].map((n) =>
    h(
      "label",
      { class: "rating" },
      h("input", { type: "radio", name: "rating", value: n, "aria-label": `${n} of 5` }),
      h("span", { "aria-hidden": "true" }, String(n)),
    ),
  );
  return h("fieldset", { class: "ratings" }, h("legend", {}, "Customer rating"), stars);
}

/** The ActionIn body, or what is missing. A required check must be ticked; a required
 *  measurement or text must be filled (the server refuses an unanswered required step). */
function readCompletion(form, steps) {
  const errors = [];
  const value = (selector) => form.querySelector(selector).value.trim();
  const workDone = value("#work-done");
  if (!workDone) errors.push("Describe the work done.");
  const answers = {};
  for (const step of steps) {
    const input = form.querySelector(`[data-step="${CSS.escape(step.id)}"]`);
    const answered = step.kind === "check" ? input.checked : input.value.trim() !== "";
    input.setAttribute("aria-invalid", String(step.required && !answered));
    if (!answered) {
      if (step.required) errors.push(`Checklist: “${step.label}” is required.`);
      continue;
    }
    if (step.kind === "check") answers[step.id] = true;
    else if (step.kind === "measure") answers[step.id] = Number(input.value);
    else answers[step.id] = input.value.trim();
  }
  const materials = [...form.querySelectorAll(".material")]
    .map((row) => ({
      name: row.querySelector(".material-name").value.trim(),
      quantity: Number(row.querySelector(".material-quantity").value) || null,
    }))
    .filter((m) => m.name);
  const rating = Number(form.querySelector("input[name=rating]:checked")?.value) || null;
  const signature = value("#signature");
  const comment = [signature && `Customer signature: ${signature}`, value("#comment")]
    .filter(Boolean)
    .join("\n");
  const completion = {
    work_done: workDone,
    materials,
    checklist_answers: answers,
    rating,
    comment: comment || null,
  };
  return { body: { completion }, errors };
}
