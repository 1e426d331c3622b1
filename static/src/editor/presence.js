// "People here": everyone whose awareness state is in any clause's document, once each.
//
// The server stamps each state's `user` ({id, name, color, category}) with the sender's
// real identity, so a person is identified by user.id across all the clauses' documents.
// Names are set as text (textContent), never as markup.
import { colorClass } from "./colors.js";
import { labelNumber } from "./clause.js";
import { categoryLabel, t } from "./i18n.js";

export class Presence {
  /**
   * @param {HTMLElement} container the <aside> the template provides (data-editor-presence)
   * @param {{id, name, color, category}} self our own user, from the page
   * @param {string} [locale] the page's language, for sorting names
   */
  constructor(container, self, locale = undefined) {
    this.container = container;
    this.self = self;
    this.collator = new Intl.Collator(locale);
    this.list = container.querySelector("[data-editor-presence-list]");
    this.scheduled = false;
  }

  /** Recompute at the next frame (awareness changes come in bursts). */
  schedule(views) {
    this.views = views;
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  people() {
    /** @type {Map<string, {user, where: Set<string>, self: boolean}>} */
    const people = new Map();
    const add = (user, self) => {
      const key = String(user.id);
      if (!people.has(key)) people.set(key, { user, where: new Set(), self });
      return people.get(key);
    };
    add(this.self, true);
    for (const view of this.views?.values() ?? []) {
      view.awareness.getStates().forEach((state, clientId) => {
        const mine = clientId === view.awareness.clientID;
        const user = mine ? this.self : state.user;
        if (!user || user.id == null) return;
        const person = add(user, mine || String(user.id) === String(this.self.id));
        if (state.cursor != null) person.where.add(labelNumber(view.clause.number));
      });
    }
    const [self, ...others] = people.values();
    others.sort((a, b) => this.collator.compare(String(a.user.name), String(b.user.name)));
    return [self, ...others];
  }

  render() {
    const items = this.people().map(({ user, where, self }) => {
      const li = document.createElement("li");
      li.className = "presence__person";
      const swatch = document.createElement("span");
      swatch.className = `presence__swatch ${colorClass(user.color)}`;
      swatch.setAttribute("aria-hidden", "true");
      const who = document.createElement("span");
      who.className = "presence__who";
      const name = document.createElement("span");
      name.className = "presence__name";
      name.textContent = self ? t("you", { name: user.name }) : user.name;
      who.append(name);
      if (user.category) {
        const badge = document.createElement("span");
        badge.className = `badge badge--${String(user.category).replace(/_/g, "-")}`;
        badge.textContent = categoryLabel(user.category);
        who.append(" ", badge);
      }
      if (where.size) {
        const place = document.createElement("span");
        place.className = "presence__where";
        const clauses = [...where].map((number) => t("clauseNumber", { number }));
        place.textContent = t("editingIn", { clauses: clauses.join(", ") });
        who.append(place);
      }
      li.append(swatch, who);
      return li;
    });
    // Ourselves first, then by name (people()).
    this.list.replaceChildren(...items);
    this.container.hidden = false;
  }
}
