// What the page scripts put on `window`: the tests read the editor's and the vote page's
// state through them; the accessibility test runs axe.
interface Window {
  plenaryEditor?: import("./editor/editor.js").RecommendationEditor;
  plenaryVote?: unknown;
  axe?: typeof import("axe-core");
}
