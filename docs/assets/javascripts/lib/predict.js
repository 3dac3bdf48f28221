/* Predict-then-reveal (the guided lesson, web/exercises.py): a question with radio
 * choices and its answer in a <details>. Without JavaScript the answer opens like any
 * <details>; with it, it opens only once a choice is made (a click on its summary
 * before that says so), and the choice is marked right or wrong when it opens.
 *
 *   <div class="gallery-predict" data-answer="VALUE"> ... <input type="radio" value="...">
 *     <details class="gallery-predict-answer"><summary>...</summary>...</details></div> */

function chosen(block) {
  const input = block.querySelector('input[type="radio"]:checked');
  return input ? input.value : null;
}

export function setupPredict(block) {
  if (block.gvPredict) return;
  block.gvPredict = true;
  const details = block.querySelector("details"), summary = details && details.querySelector("summary");
  if (!summary) return;
  const hint = document.createElement("p");
  hint.className = "gallery-predict-hint";
  hint.setAttribute("role", "status");
  details.parentNode.insertBefore(hint, details);
  function mark() {
    const value = chosen(block), right = block.getAttribute("data-answer");
    block.setAttribute("data-chosen", value === null ? "" : value);
    if (details.open && value !== null && right) {
      hint.textContent = value === right ? "Your guess was right." : "Your guess was not the answer: see why below.";
      block.setAttribute("data-result", value === right ? "right" : "wrong");
    }
  }
  summary.setAttribute("data-locked", "true");
  summary.addEventListener("click", (event) => {
    if (!details.open && chosen(block) === null) {
      event.preventDefault();
      hint.textContent = "Choose an answer first, then open it.";
    }
  });
  block.addEventListener("change", () => {
    summary.setAttribute("data-locked", String(chosen(block) === null));
    if (!details.open) hint.textContent = "";
    mark();
  });
  details.addEventListener("toggle", mark);
}

export function setupPredicts(root) {
  (root || document).querySelectorAll(".gallery-predict").forEach(setupPredict);
}
