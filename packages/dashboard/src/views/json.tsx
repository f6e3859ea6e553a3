import { count, MAX_PRETTY } from './format.js'

/** A pretty-printed JSON document (escaped like any text), with a note when it was cut. */
export function Json(props: { value: { text: string; cut: boolean }; empty?: string }) {
  if (props.value.text === '') return <p class="muted">{props.empty ?? 'None.'}</p>
  return (
    <div>
      <pre class="json">{props.value.text}</pre>
      {props.value.cut ? <p class="note">Cut at {count(MAX_PRETTY)} characters.</p> : null}
    </div>
  )
}
