import MarkdownIt from 'markdown-it';

// Raw HTML in school-written text (agreements, consent terms) is shown as text, never run: Markdown only.
const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

export function renderMarkdown(text: string): string {
  return markdown.render(text);
}
