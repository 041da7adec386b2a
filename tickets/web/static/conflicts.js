// A queued action the server refused (queue.js keeps it): shown until the engineer retries or
// dismisses it, with the completion record it carried, so nothing typed is silently lost.
import { h, formatTime } from "./common.js";

const WHY = {
  0: "It built on an earlier action on this ticket that was refused.",
  403: "The ticket was reassigned to someone else while you were offline.",
  404: "The ticket no longer exists.",
  409: "The ticket changed on the server meanwhile.",
  422: "The server found something missing or invalid.",
};

/** One refused action: what, when, why, the server's words, and the engineer's choices. */
export function conflictItem(entry, queue) {
  const body = JSON.parse(entry.body || "{}");
  const why = WHY[entry.status] || "";
  const work = body.completion?.work_done;
  return h(
    "li",
    { class: "conflict", dataset: { seq: entry.seq } },
    h("strong", {}, `Ticket #${entry.ticketId}: ${entry.action}`),
    h("span", {}, ` (taken ${formatTime(entry.takenAt)})`),
    why ? h("p", {}, why) : null,
    h("p", { class: "hint" }, `Server: ${entry.message}`),
    work ? h("details", {}, h("summary", {}, "Your completion record"), h("p", {}, work)) : null,
    h(
      "div",
      { class: "row" },
      h("button", { type: "button", onclick: () => queue.retry(entry.seq) }, "Retry"),
      h("button", { type: "button", onclick: () => queue.dismiss(entry.seq) }, "Dismiss"),
    ),
  );
}
