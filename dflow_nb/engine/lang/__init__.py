"""Argo's language, pure: Go's value rules, expr-lang, govaluate, ``{{}}`` and ``depends``.

Everything Argo's controller does to text, without I/O, asyncio or any other part of the engine,
so it can be tested as a table and reused by any backend:

* :mod:`.govalue` - Go's value rules written once (fmt ``%v``, ``FormatFloat``, ``json.Marshal``,
  ``strconv.Quote``/``Atoi``, Argo's ``AnyString``), :mod:`.goregex` - Go's RE2 ``regexp``;
* expr-lang v1.17.8 (``{{= }}``, ``expression``, ``depends``) by concern: :mod:`.lexer`,
  :mod:`.parser` (bounded depth and length), :mod:`.compiler`, :mod:`.values` (operators),
  :mod:`.builtins`, :mod:`.sprig`, :mod:`.jsonpath`, with the API in :mod:`.expr`;
* :mod:`.govaluate` - ``when`` (Knetic/govaluate);
* :mod:`.substitute` - ``{{...}}`` substitution and ``ProcessArgs``; :mod:`.depends` - ``depends``.
"""
