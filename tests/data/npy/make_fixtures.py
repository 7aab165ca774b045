# Regenerates the .npy fixtures with numpy (the independent reference for src/core/npy.cc):
#   cd tests/data/npy && /usr/bin/python3 make_fixtures.py
# The values are repeated in tests/core/npy_test.cc; keep both in step.
import numpy as np

def save(name, a):
    np.save(name, a, allow_pickle=False)

# One file per supported dtype, shape (2, 3), with the type's extremes.
ints = {
    'i1': np.int8, 'i2': np.int16, 'i4': np.int32, 'i8': np.int64,
    'u1': np.uint8, 'u2': np.uint16, 'u4': np.uint32, 'u8': np.uint64,
}
for code, t in ints.items():
    info = np.iinfo(t)
    vals = [info.min, info.max, 0, 1, 2 if info.min == 0 else -1, 42]
    save(code, np.array(vals, dtype=t).reshape(2, 3))
for code, t in {'f2': np.float16, 'f4': np.float32, 'f8': np.float64}.items():
    save(code, np.array([0.0, -1.5, 3.25, np.inf, -np.inf, np.nan], dtype=t).reshape(2, 3))
save('b1', np.array([True, False, True, True, False, False]).reshape(2, 3))

# Shapes: scalar, empty, 1-d, rank 4.
save('scalar_f8', np.array(3.5, dtype=np.float64))
save('empty_f4', np.zeros((0, 3), dtype=np.float32))
save('vector_i8', np.arange(5, dtype=np.int64) * 1000)
save('rank4_i4', np.arange(24, dtype=np.int32).reshape(1, 2, 3, 4))

# Header versions 2.0 and 3.0 (np.save picks 1.0 for small headers).
for v in (2, 3):
    with open('v%d_f4.npy' % v, 'wb') as f:
        np.lib.format.write_array(f, np.arange(6, dtype=np.float32).reshape(3, 2), version=(v, 0))

# Files the reader must refuse, each with its own message.
save('fortran_f4', np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
save('bigendian_f4', np.arange(3, dtype='>f4'))
save('complex_c8', np.array([1 + 2j], dtype=np.complex64))
save('unicode_u3', np.array(['abc'], dtype='<U3'))
save('structured', np.zeros(2, dtype=[('a', '<i4'), ('b', '<f4')]))
np.save('object', np.array([1, 'a'], dtype=object), allow_pickle=True)
